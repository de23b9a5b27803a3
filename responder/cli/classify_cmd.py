"""``responder classify``: one decision for a text, or a JSON-lines stream.

Streaming matters: other tools pipe whole feeds through ``--jsonl``, so each
line is read, classified, written and flushed before the next is read and
memory stays flat however long the input is. A bad line yields an error line
and the stream goes on.
"""

from __future__ import annotations

import json
import sys

import click

from responder.cli.common import data_paths, echo_json, fail


def _classifier(ctx: click.Context):
    from responder.classify import Classifier, load_default
    from responder.data import DataError

    try:
        paths = data_paths(ctx)
    except ImportError:  # responder.config not available: use the shipped data files
        return load_default()
    except DataError as exc:
        fail(str(exc))
    try:
        return Classifier.from_paths(paths["thresholds"], paths["routing"], paths["domains"])
    except KeyError as exc:
        fail(f"configuration names no data file {exc.args[0]!r}")
    except DataError as exc:
        fail(str(exc))


def _human(d) -> str:
    lines = []
    if d.level:
        lines.append(f"等级：{d.level}级（{d.level_name}）")
    else:
        lines.append("等级：无（非突发事件，一般舆情）")
    lines.append(f"时限：{'5小时内发布权威信息' if d.clock == '5h' else '48小时内予以回应'}（{d.clock}）")
    lines.append(f"类别：{d.category or '—'}　公开领域：{d.domain or '—'}")
    lines.append(f"牵头部门：{d.department or '—'}" + (f"　配合部门：{'、'.join(d.co_departments)}" if d.co_departments else ""))
    lines.append(f"需人工确认：{'是' if d.needs_review else '否'}")
    lines.append("理由：")
    lines.extend(f"  - {r}" for r in d.reasons)
    return "\n".join(lines)


def _explain(d) -> str:
    """Why the clock is what it is: for a 5-hour clock the stated facts do not reach, the unknown or
    contradictory facts that drove it (a person confirms or downgrades exactly those); then the numbers
    read and set aside (evacuated, background, felt far away), so a downgrade or an upgrade can be checked."""
    lines = ["判断说明："]
    if d.clock == "5h" and d.doubts and d.level in ("I", "II"):
        lines.append(f"  5小时时限：文中数字达到{d.level_name}，但以下事实存疑或矛盾，请核实：")
        lines.extend(f"    - {x}" for x in d.doubts)
    elif d.clock == "5h" and d.doubts:
        lines.append("  5小时时限由以下未知或存疑的事实决定（现有明确事实未达到重大）：")
        lines.extend(f"    - {x}" for x in d.doubts)
    elif d.clock == "5h":
        lines.append(f"  5小时时限由文中明确事实决定（{d.level_name or '重大'}），无存疑事实")
    else:
        lines.append("  48小时时限：文中事实及存疑事实均未达到重大")
    if d.set_aside:
        lines.append("  读到但未计入分级的数字：")
        lines.extend(f"    - {x}" for x in d.set_aside)
    return "\n".join(lines)


def _stream(clf, infile, out) -> int:
    """Read a line, write a line, flush; returns the number of error lines."""
    from responder.classify import ClassifyError

    errors = 0
    for raw in infile:
        line = raw.strip()
        if not line:
            continue
        rid = None
        try:
            obj = json.loads(line)
            if not isinstance(obj, dict):
                raise ValueError("每行应为一个 JSON 对象 / each line must be a JSON object")
            rid = obj.get("id")
            title, text = obj.get("title") or "", obj.get("text") or ""
            if not isinstance(title, str) or not isinstance(text, str):
                raise ValueError("title 和 text 必须是字符串 / title and text must be strings")
            d = clf.classify(title, text, declared_level=obj.get("level_declared") or obj.get("declared_level"),
                             declared_category=obj.get("declared_category"))
            result = d.to_json(rid)
        except json.JSONDecodeError as exc:
            errors += 1
            result = {"id": None, "error": f"不是合法的 JSON / invalid JSON: {exc.msg} (column {exc.colno})"}
        except (ValueError, ClassifyError) as exc:
            errors += 1
            result = {"id": rid if isinstance(rid, (str, int, float)) or rid is None else str(rid), "error": str(exc)}
        out.write(json.dumps(result, ensure_ascii=False) + "\n")
        out.flush()
    return errors


@click.command("classify")
@click.argument("text", required=False)
@click.option("--title", "title", default=None, help="Headline (TEXT is then the body).")
@click.option("--jsonl", is_flag=True, help='Read {"id","title","text"} lines on stdin, write one decision per line.')
@click.option("--json", "as_json", is_flag=True, help="Print the decision as one JSON object.")
@click.option("--explain", is_flag=True,
              help="Also show which unknown or contradictory fact drove a 5-hour clock, and the numbers set aside.")
@click.pass_context
def classify(ctx: click.Context, text: str | None, title: str | None, jsonl: bool, as_json: bool,
             explain: bool) -> None:
    """Judge severity (特别重大/重大 → 5h clock, else 48h), category and lead department, with reasons."""
    if jsonl:
        if text or title:
            fail("--jsonl reads stdin; do not pass TEXT or --title with it")
        clf = _classifier(ctx)
        stdin = sys.stdin
        stdout = sys.stdout
        _stream(clf, stdin, stdout)
        return
    if not (text or title):
        fail('give the text to classify: responder classify "文本" (or --jsonl to read lines from stdin)')
    from responder.classify import ClassifyError

    clf = _classifier(ctx)
    try:
        d = clf.classify(title if title is not None else (text or ""), text if title is not None else "")
    except ClassifyError as exc:
        fail(str(exc))
    if as_json:
        obj = d.to_json()
        obj["co_departments"] = list(d.co_departments)
        obj["facts"] = d.facts
        if explain:
            obj["explain"] = {"doubts": list(d.doubts), "set_aside": list(d.set_aside)}
        echo_json(obj)
    else:
        click.echo(_human(d))
        if explain:
            click.echo(_explain(d))


COMMANDS = [classify]


if __name__ == "__main__":  # pragma: no cover - convenience for running without the main group
    sys.exit(classify())
