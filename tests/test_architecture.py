"""The import contracts of docs/architecture.md, checked over the source with ``ast``.

Every ``import`` counts, at module level or inside a function, because a
function-level import is an arrow all the same. Each contract names who
imports (module prefixes), what they must not reach, and the few deliberate
exceptions; a later step tightens a contract by adding a row or removing an
exception (e.g. a ``notify/`` wing, or the engine split by concern).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "responder"

GROUND = ("responder.timeutil", "responder.masking", "responder.data", "responder.db", "responder.logs",
          "responder.workdays")
"""The ground floor: imports no other room of responder except ``models`` (``audit`` and ``db`` use the schema)."""


ENGINE_SHELL = ("responder.engine.advance", "responder.engine.intake", "responder.engine.cases",
                "responder.engine.releases", "responder.engine.clocks", "responder.engine.selfcheck",
                "responder.engine.inputs", "responder.engine.handlers", "responder.engine.joining")
"""The engine's shell: the modules that run SQL, write records and enqueue messages (docs/architecture.md)."""


@dataclass(frozen=True)
class Contract:
    name: str
    importers: tuple[str, ...]
    """Modules (prefixes) the contract applies to."""
    forbidden: tuple[str, ...]
    """Module prefixes they must not import."""
    allowed: tuple[str, ...] = ()
    """Module prefixes exempt from ``forbidden`` (checked first)."""
    exempt: tuple[str, ...] = ()
    """Importers the contract does not apply to."""


CONTRACTS = (
    Contract("config is the bottom: it imports only itself and the ground floor",
             importers=("responder.config",), forbidden=("responder",),
             allowed=("responder.config", *GROUND)),
    Contract("nothing outside cli/ imports the CLI",
             importers=("responder",), forbidden=("responder.cli",),
             exempt=("responder.cli", "responder.__main__")),
    Contract("only cli/ (and testing/, which drives it as the tests do) imports the service room",
             importers=("responder",), forbidden=("responder.service",),
             exempt=("responder.cli", "responder.service", "responder.testing")),
    Contract("the web console is a shell room: only cli/ and service/ import it",
             importers=("responder",), forbidden=("responder.web",),
             exempt=("responder.cli", "responder.service", "responder.web")),
    Contract("the working-day policy models are a leaf: the engine's policy loader imports them",
             importers=("responder.disclosure.policy",), forbidden=("responder",)),
    Contract("the engine reads disclosure's policy models, vocabulary and handlers, never the service that drives it",
             importers=("responder.engine",), forbidden=("responder.disclosure",),
             allowed=("responder.disclosure.policy", "responder.disclosure.vocabulary",
                      "responder.disclosure.handlers")),
    Contract("what the engine reads of disclosure sits below the engine, as the plan's handlers do",
             importers=("responder.disclosure.vocabulary", "responder.disclosure.handlers"),
             forbidden=("responder.engine", "responder.disclosure", "responder.db", "responder.audit",
                        "responder.notify", "responder.service", "responder.web", "responder.cli"),
             allowed=("responder.disclosure.vocabulary",)),
    Contract("disclosure drives the engine's clocks through its face and pure rules, not its shell modules",
             importers=("responder.disclosure",),
             forbidden=("responder.engine.core", "responder.engine.handlers", "responder.engine.advance",
                        "responder.engine.intake", "responder.engine.cases", "responder.engine.releases")),
    Contract("the notify wing's decisions are pure: no database, no records, no sending",
             importers=("responder.notify.decide",),
             forbidden=("responder.db", "responder.models", "responder.audit", "responder.notify.dispatch",
                        "responder.notify.enqueue", "responder.engine", "responder.service")),
    Contract("bundling decides purely: what goes together, what waits and until when",
             importers=("responder.notify.bundle",),
             forbidden=("responder.db", "responder.models", "responder.audit", "responder.notify.dispatch",
                        "responder.notify.attempts", "responder.notify.bundle_store", "responder.notify.enqueue",
                        "responder.engine", "responder.service")),
    Contract("the notify wing serves the engine, the plan and the report; it drives none of them",
             importers=("responder.notify",),
             forbidden=("responder.engine", "responder.plan", "responder.report", "responder.ingest",
                        "responder.classify", "responder.disclosure", "responder.service", "responder.web")),
    Contract("the engine's rules are pure: no database, no records, no messages, no shell",
             importers=("responder.engine.rules", "responder.engine.ladder", "responder.engine.case_handlers",
                        "responder.engine.matching", "responder.engine.policy", "responder.engine.places",
                        "responder.engine.event_identity"),
             forbidden=("responder.db", "responder.audit", "responder.notify", *ENGINE_SHELL, "responder.classify",
                        "responder.service", "responder.cli", "responder.web")),
    Contract("event identities are pure text rules: they read no rows",
             importers=("responder.engine.places", "responder.engine.event_identity", "responder.engine.matching",
                        "responder.engine.ladder", "responder.engine.policy"),
             forbidden=("responder.models", "sqlmodel", "sqlalchemy")),
    Contract("the engine's shell modules lean on its rules, never on the rooms that drive them",
             importers=ENGINE_SHELL, forbidden=("responder.service", "responder.cli", "responder.web",
                                                "responder.report", "responder.ingest")),
    Contract("the self-check reads clocks and writes only its own record: no messages, no other engine module",
             importers=("responder.engine.selfcheck",), forbidden=("responder.notify", "responder.engine")),
    Contract("outside the engine, its changes and its pass are reached through its face (responder.engine)",
             importers=("responder",), exempt=("responder.engine",),
             forbidden=tuple(m for m in ENGINE_SHELL if m != "responder.engine.inputs")),
    Contract("the plan sits below the engine",
             importers=("responder.plan",), forbidden=("responder.engine",)),
    Contract("the classifier is pure: no database, no engine",
             importers=("responder.classify",),
             forbidden=("responder.db", "responder.engine", "responder.models", "responder.notify",
                        "responder.ingest", "responder.service")),
    Contract("the ground floor imports no room above it",
             importers=GROUND, forbidden=("responder",),
             allowed=(*GROUND, "responder.models", "responder.__init__")),
    Contract("the report reads records; it does not drive the engine",
             importers=("responder.report",), forbidden=("responder.engine", "responder.service", "responder.web")),
    Contract("the response ledger is a read model: it writes, enqueues and sends nothing",
             importers=("responder.report.ledger", "responder.report.periods", "responder.report.ledger_render"),
             forbidden=("responder.db", "responder.notify", "responder.engine",
                        "responder.service", "responder.web", "responder.report.job", "responder.report.ledger_job")),
    Contract("channels know only their contract and the configuration",
             importers=("responder.notify.channels",),
             forbidden=("responder.engine", "responder.notify.enqueue", "responder.notify.decide",
                        "responder.notify.dispatch", "responder.notify.render", "responder.plan", "responder.report",
                        "responder.ingest", "responder.service", "responder.classify")),
)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if "migrations" not in p.relative_to(SRC).parts)


def imports_of(path: Path) -> list[tuple[int, str]]:
    """(line, imported module) for every import in the file, relative ones resolved."""
    mod = module_name(path)
    package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
    out: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            out.append((node.lineno, target))
            # `from responder import cli` imports responder.cli
            out += [(node.lineno, f"{target}.{a.name}") for a in node.names if target == "responder"]
    return out


def matches(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def violations(contract: Contract) -> list[str]:
    found = []
    for path in source_files():
        mod = module_name(path)
        if not matches(mod, contract.importers) or matches(mod, contract.exempt):
            continue
        for line, target in imports_of(path):
            if target == "responder":
                continue  # the package face itself (`from responder import __version__`)
            if matches(target, contract.forbidden) and not matches(target, contract.allowed):
                found.append(f"{path.relative_to(SRC.parent)}:{line}: {mod} imports {target}")
    return found


@pytest.mark.parametrize("contract", CONTRACTS, ids=[c.name for c in CONTRACTS])
def test_import_contract(contract):
    """No import crosses the line the contract draws (see docs/architecture.md)."""
    assert violations(contract) == []


def room(module: str) -> str:
    """A package under responder/ is one room; a loose module is its own."""
    return ".".join(module.split(".")[:2])


def import_graph() -> dict[str, set[str]]:
    """Module → the modules it imports, function-level imports included.

    Importing a submodule of another room first runs that room's ``__init__``,
    so the arrow reaches the package face too: that is how a cycle through a
    face (``engine/__init__`` imports ``engine.advance``) shows.
    """
    files = {module_name(p): p for p in source_files()}

    def resolve(target: str) -> str | None:
        while target and target not in files:
            target = target.rpartition(".")[0]
        return target or None

    graph: dict[str, set[str]] = {}
    for mod, path in files.items():
        edges = graph.setdefault(mod, set())
        for _, target in imports_of(path):
            found = resolve(target)
            if found is None or found == mod:
                continue
            edges.add(found)
            parts = found.split(".")
            for i in range(2, len(parts)):
                package = ".".join(parts[:i])
                if package in files and not matches(mod, (package,)):
                    edges.add(package)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    comp.append(top)
                    if top == node:
                        break
                if len(comp) > 1:
                    found.append(sorted(comp))
    return found


def test_no_import_cycle_runs_between_rooms():
    """No two rooms import each other, directly or round about (within one package a face may import its parts)."""
    assert [c for c in cycles(import_graph()) if len({room(m) for m in c}) > 1] == []


def test_no_module_is_found_by_name():
    """No importlib and no __import__ in responder/ outside the migrations: every dependency is a plain import."""
    found = []
    for path in source_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import) and any(matches(a.name, ("importlib",)) for a in node.names) \
                    or isinstance(node, ast.ImportFrom) and matches(node.module or "", ("importlib",)) \
                    or isinstance(node, ast.Name) and node.id == "__import__":
                found.append(f"{path.relative_to(SRC.parent)}:{node.lineno}")
    assert found == []


def test_the_contracts_can_fail():
    """The checker sees a forbidden arrow when there is one (so a green run means something)."""
    assert violations(Contract("probe", importers=("responder.service",), forbidden=("responder.config",)))
    assert violations(Contract("probe", importers=("responder.engine.advance",), forbidden=("responder.notify",)))
    assert cycles({"a.x": {"b.y"}, "b.y": {"b"}, "b": {"b.z"}, "b.z": {"a.x"}, "c": set()}) == [["a.x", "b", "b.y", "b.z"]]


@pytest.mark.parametrize("first", ["responder.disclosure.service", "responder.disclosure.handlers",
                                   "responder.engine", "responder.engine.handlers"])
def test_engine_and_disclosure_import_in_either_order(first):
    """Whichever of the engine and the disclosure room is imported first, both load and the handler table is whole.

    The handler table lists disclosure's handlers and disclosure uses the engine's ladder, so a
    wrong import order would show here as a partially initialised module.
    """
    import os
    import subprocess
    import sys

    code = (f"import {first}\nfrom responder.engine.handlers import handler_for\n"
            "assert all(handler_for(o) for o in ('release_5h', 'request_answer', 'inquiry_answer', 'plan_phase'))")
    run = subprocess.run([sys.executable, "-c", code], cwd=SRC.parent, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(SRC.parent)})
    assert run.returncode == 0, run.stderr
