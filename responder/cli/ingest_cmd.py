"""``ingest`` (one source once, or a dry run on any URL or file) and ``sources`` (health)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import click

from responder.cli.common import echo_json, fail, load_settings, open_engine

OUTCOME_LABEL = {"new": "新", "duplicate": "重复", "attached": "归并", "same_story": "同一事件", "release": "发布"}
STATUS_LABEL = {"ok": "正常", "damaged": "正常（内容有损坏，已修复）", "not_modified": "未更新（304）", "unchanged": "内容未变", "partial": "部分可用",
                "rejected": "拒收", "error": "失败"}


def _mapping(spec: str | None):
    """``--mapping`` as JSON (``{"items": "data", …}``) or ``key=value,key=value``."""
    from pydantic import ValidationError

    from responder.config.sources import JsonMapping

    if not spec:
        return None
    try:
        raw = json.loads(spec) if spec.lstrip().startswith("{") else dict(
            part.split("=", 1) for part in spec.split(",") if part.strip())
        return JsonMapping.model_validate({k.strip(): v.strip() if isinstance(v, str) else v for k, v in raw.items()})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first.get("loc", ())) or "mapping"
        fail(f"--mapping 无效：{where}: {first.get('msg', '')}")
    except (ValueError, AttributeError) as exc:  # not key=value pairs, or a JSON list instead of an object
        fail(f"--mapping 无效（应为 key=value,key=value 或 JSON 对象）：{exc}")


async def _dry_fetch(target: str):
    from responder.ingest.fetch import fetch_url, is_http, make_client, read_path

    if is_http(target):
        async with make_client() as client:
            return await fetch_url(client, target)
    return read_path(target, base_dir=Path.cwd())


def _dry_run(target: str, kind: str, mapping_spec: str | None, as_json: bool) -> None:
    from responder.ingest.parse import parse_feed, sniff_kind
    from responder.timeutil import fmt_bj, iso_utc, utcnow

    mapping = _mapping(mapping_spec)
    now = utcnow()
    fr = asyncio.run(_dry_fetch(target))
    items: list[Any] = []
    reasons: list[str] = [fr.error] if fr.error else []
    rejects: list[str] = []
    damage: list[str] = []
    healthy = not fr.error
    for doc in fr.documents:
        k = kind if kind != "auto" else ("json" if mapping else sniff_kind(doc.body, doc.content_type,
                                                                           "" if doc.name.startswith("http") else doc.name))
        res = parse_feed(doc.body, content_type=doc.content_type, kind=k, mapping=mapping, now=now)
        items.extend(res.items)
        rejects.extend(res.rejects)
        damage.extend(res.damage)
        if res.status == "damaged":
            reasons.append(res.reason or "")
        elif res.status != "ok":
            healthy = False
            if res.reason:
                reasons.append(res.reason)
        elif res.reason:
            reasons.append(res.reason)
    status = "ok" if healthy and (items or not fr.error) else "rejected"
    if status == "ok" and damage:
        status = "damaged"
    for it in items:
        if as_json:
            echo_json({"guid": it.guid, "title": it.title, "link": it.link, "published": iso_utc(it.published_at),
                       "published_source": it.published_source, "text": it.text})
        else:
            src = "" if it.published_source == "feed" else "（首次看到）"
            click.echo(f"- {fmt_bj(it.published_at)}{src}  {it.title}")
            click.echo(f"    {it.link or it.guid}")
    summary = {"status": status, "reason": "；".join(reasons) or None, "items": len(items)}
    if rejects:
        summary["rejects"] = rejects
    if damage:
        summary["damage"] = damage
    if as_json:
        echo_json(summary)
    else:
        verdict = {"ok": "可用", "damaged": "可用（内容有损坏，已修复）"}.get(status, "拒收/有问题")
        click.echo(f"结果：{verdict}，{len(items)} 个条目"
                   + (f"；原因：{summary['reason']}" if summary["reason"] else ""))
        for r in rejects:
            click.echo(f"  未采用：{r}")
        for d in damage:
            click.echo(f"  已修复：{d}")
    raise SystemExit(0 if status in ("ok", "damaged") else 1)


def report_json(rep: Any) -> dict[str, Any]:
    from responder.timeutil import iso_utc

    return {
        "source": rep.source, "status": rep.status, "reason": rep.reason, **rep.counts(),
        "rejects": list(rep.rejects), "damage": list(rep.damage), "http_status": rep.http_status, "elapsed_ms": rep.elapsed_ms,
        "consecutive_failures": rep.consecutive_failures, "next_poll_at": iso_utc(rep.next_poll_at),
        "items": [{"item_id": o.item_id, "guid": o.guid, "title": o.title, "outcome": o.outcome, "reason": o.reason,
                   "case_id": o.case_id, "published": iso_utc(o.published_at),
                   "published_source": o.published_source} for o in rep.items],
    }


def print_report(rep: Any) -> None:
    from responder.timeutil import fmt_bj

    c = rep.counts()
    click.echo(f"来源 {rep.source}：{STATUS_LABEL.get(rep.status, rep.status)}（{rep.status}）  "
               f"新 {c['new']}  重复 {c['duplicate']}  归并 {c['attached']}  同一事件 {c['same_story']}  "
               f"发布 {c['release']}  拒收 {c['rejected']}" + (f"  待到时 {c['held']}" if c["held"] else ""))
    if rep.reason:
        click.echo(f"  原因：{rep.reason}")
    for o in rep.items:
        ref = f"#{o.item_id}" if o.item_id else ""
        extra = f"（{o.reason}）" if o.reason else ""
        case = f" → 案件#{o.case_id}" if o.case_id else ""
        click.echo(f"  [{OUTCOME_LABEL.get(o.outcome, o.outcome)}] {ref} {o.title}{case}{extra}")
    for r in rep.rejects:
        click.echo(f"  [拒收] {r}")
    for d in rep.damage:
        click.echo(f"  [已修复] {d}")
    click.echo(f"  下次抓取：{fmt_bj(rep.next_poll_at)}（北京时间）  连续失败：{rep.consecutive_failures}")


@click.command("ingest")
@click.argument("target", metavar="SOURCE | URL-or-PATH")
@click.option("--dry-run", is_flag=True, help="Fetch or read TARGET (a URL or path), store nothing, print the items.")
@click.option("--json", "as_json", is_flag=True, help="JSON: one line per item and a status line (dry run), or one report.")
@click.option("--kind", type=click.Choice(["auto", "feed", "json", "jsonfeed"]), default="auto", show_default=True,
              help="Dry run: how to parse TARGET.")
@click.option("--mapping", metavar="SPEC", help="Dry run: JSON field mapping, e.g. 'items=data,id=id,title=title,"
              "body=content,link=url,published=time,level=level' or a JSON object.")
@click.pass_context
def ingest(ctx: click.Context, target: str, dry_run: bool, as_json: bool, kind: str, mapping: str | None) -> None:
    """Fetch one configured SOURCE once and report new, duplicate, attached and rejected items.

    With --dry-run, TARGET is any URL or file and no configuration is needed: nothing is stored.
    """
    if dry_run:
        _dry_run(target, kind, mapping, as_json)
        return
    from responder.ingest import make_client, poll_source, sync_sources
    from responder.timeutil import utcnow

    settings = load_settings(ctx)
    cfg = next((s for s in settings.file.source if s.name == target), None)
    if cfg is None:
        names = ", ".join(s.name for s in settings.file.source) or "（无）"
        fail(f"没有名为 {target!r} 的信息源（已配置：{names}）；试用新来源请用 --dry-run URL")
    if cfg.kind == "push":
        fail(f"信息源 {target!r} 是推送来源（kind = \"push\"），由对方调用 POST /intake/{target}，不能主动抓取")
    engine = open_engine(settings)
    now = utcnow()
    sync_sources(engine, settings, now)

    async def run():
        async with make_client(settings) as client:
            return await poll_source(engine, settings, cfg, now=now, client=client)

    rep = asyncio.run(run())
    if as_json:
        echo_json(report_json(rep))
    else:
        print_report(rep)
    raise SystemExit(0 if rep.healthy else 1)


@click.command("sources")
@click.option("--json", "as_json", is_flag=True, help="One JSON array.")
@click.pass_context
def sources(ctx: click.Context, as_json: bool) -> None:
    """List configured sources with their health (last success, last error and why, consecutive failures)."""
    from responder.ingest import load_states
    from responder.timeutil import fmt_bj, iso_utc

    settings = load_settings(ctx)
    engine = open_engine(settings)
    states = load_states(engine)
    rows = []
    for cfg in settings.file.source:
        st = states.get(cfg.name)
        fails = st.consecutive_failures if st else 0
        damaged = bool(st and not fails and st.last_error_at and st.last_error_at == st.last_polled_at)
        rows.append({
            "name": cfg.name, "kind": cfg.kind, "role": cfg.role, "url": cfg.url, "interval": cfg.interval,
            "enabled": cfg.enabled, "healthy": (fails == 0) if st and st.last_polled_at else None,
            "damaged": damaged,
            "last_polled_at": iso_utc(st.last_polled_at) if st else None,
            "last_success_at": iso_utc(st.last_success_at) if st else None,
            "last_error_at": iso_utc(st.last_error_at) if st else None,
            "last_error": st.last_error if st else None, "consecutive_failures": fails,
            "next_poll_at": iso_utc(st.next_poll_at) if st else None, "items_total": st.items_total if st else 0,
        })
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("没有配置信息源。")
        return
    for r, cfg in zip(rows, settings.file.source):
        st = states.get(cfg.name)
        health = "未抓取" if r["healthy"] is None else (("正常（最近一次内容有损坏，已修复）" if r["damaged"] else "正常")
                                                      if r["healthy"] else f"异常（连续失败 {r['consecutive_failures']} 次）")
        off = "" if cfg.enabled else "  [已停用]"
        click.echo(f"{cfg.name}  [{cfg.kind}/{cfg.role}]  {health}{off}")
        click.echo(f"  {cfg.url}  每 {cfg.interval} 秒  累计条目 {r['items_total']}")
        if st is not None:
            click.echo(f"  最近成功：{fmt_bj(st.last_success_at)}  最近抓取：{fmt_bj(st.last_polled_at)}  "
                       f"下次抓取：{fmt_bj(st.next_poll_at)}（北京时间）")
            if st.last_error:
                click.echo(f"  最近错误：{fmt_bj(st.last_error_at)}  {st.last_error}")


COMMANDS = [ingest, sources]
