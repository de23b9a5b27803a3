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
             importers=("responder.engine.rules", "responder.engine.ladder", "responder.engine.case_handlers"),
             forbidden=("responder.db", "responder.audit", "responder.notify", "responder.engine.core",
                        "responder.service", "responder.cli", "responder.web")),
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
             importers=("responder.report.ledger", "responder.report.ledger_render"),
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
    assert violations(Contract("probe", importers=("responder.engine.core",), forbidden=("responder.notify",)))
