"""``responder demo`` and ``responder replay``: the whole service on a virtual clock.

A newcomer runs one command and watches the service work: SQLite in a state
directory, the bundled sample feeds (local files, revealed as virtual time
passes), a local SMTP sink and an SMS gateway stub that print what they
receive, and a virtual clock running many hours per second. It uses the real
ingest, engine, outbox, template and report code through ``responder.pipeline``
— the same steps the daemon schedules — only ``now`` is virtual.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import func
from sqlmodel import Session, select

from responder import db
from responder.config import load, shipped_config_dir
from responder.models import Case, Clock, ClockStep, Item, OutboxMessage
from responder.timeutil import BEIJING, fmt_bj

DEMO_START = dt.datetime(2022, 7, 18, 0, 0, tzinfo=BEIJING)
DEMO_END = dt.datetime(2022, 7, 25, 9, 0, tzinfo=BEIJING)  # past Monday 08:30: the weekly log of 2022-W29
DEFAULT_SPEED = 4 * 3600.0  # virtual seconds per real second: four hours a second
POLL_STEP = dt.timedelta(minutes=30)
LEVEL_KEYS = ("I", "II", "III", "IV")


class VirtualClock:
    """``now`` for the simulation: advanced explicitly, never read from the wall."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start.astimezone(dt.timezone.utc)

    def advance_to(self, t: dt.datetime) -> None:
        if t > self.now:
            self.now = t


class _Prefixed:
    """A stream that stamps each block the sinks print with the virtual time.

    SMS are shown whole (they are short); of an e-mail only recipient and subject,
    so the story stays readable.
    """

    def __init__(self, clock: VirtualClock, out: TextIO) -> None:
        self.clock, self.out = clock, out
        self.mode = ""

    def write(self, text: str) -> int:
        if text.startswith("── "):
            self.mode = "email" if text.startswith("── 邮件") else "sms"
            text = f"[{fmt_bj(self.clock.now, '%m-%d %H:%M')}] " + text[3:]
            if self.mode == "email":
                text = "".join(text.splitlines(keepends=True)[:2])
        elif self.mode == "email":
            return len(text)
        return self.out.write(text)

    def flush(self) -> None:
        self.out.flush()


def write_config(state_dir: Path, *, smtp_port: int, sms_url: str, sources: list[dict[str, Any]]) -> Path:
    """The demo's own responder.toml, in the state directory, naming the shipped data files."""
    cfg = shipped_config_dir()
    lines = [
        "# Written by `responder demo`: point other commands at it with -c.",
        "[service]", 'county = "石台县"', 'office_unit = "office"', f'state_dir = "{state_dir}"',
        'archive_dir = "archive"', 'log_level = "warning"', "",
        "[database]", 'url = "sqlite:///responder.db"', "",
        "[data]",
        *[f'{k} = "{cfg / v}"' for k, v in (("domains", "domains.toml"), ("units", "units.toml"), ("plan", "plan.toml"),
                                            ("thresholds", "thresholds.toml"), ("routing", "routing.toml"),
                                            ("policies", "policies.toml"),
                                            ("gazetteer", "gazetteer.toml"))],
        f'templates = "{cfg.parent / "templates"}"', "",
    ]
    for s in sources:
        lines += ["[[source]]", f'name = "{s["name"]}"', 'kind = "file"', f'url = "{s["url"]}"', f'role = "{s["role"]}"',
                  f'interval = {s.get("interval", 300)}']
        if s.get("mapping"):
            m = ", ".join(f'{k} = "{v}"' for k, v in s["mapping"].items())
            lines.append(f"mapping = {{ {m} }}")
        lines.append("")
    lines += [
        "[notify]", 'channels = ["sms", "email"]', 'quiet_hours = "22:00-07:30"', "",
        "[notify.email]", 'host = "127.0.0.1"', f"port = {smtp_port}", 'security = "plain"',
        'from_addr = "responder@shitai.example"', 'from_name = "石台县政务公开办舆情提醒"', "",
        "[notify.sms]", 'provider = "http"', f'endpoint = "{sms_url}send"', "",
        "[report]", 'recipients = ["office:principal"]', 'formats = ["html", "csv", "md"]', "",
    ]
    path = state_dir / "responder.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def sample_sources() -> list[dict[str, Any]]:
    return folder_sources(shipped_config_dir() / "samples")


def folder_sources(folder: Path) -> list[dict[str, Any]]:
    """A folder's ``sources.toml`` if it has one; else one file source per recorded feed
    (a name containing 'release' marks the release channel, 'incident' an incident feed)."""
    import tomllib

    listed = folder / "sources.toml"
    if listed.exists():
        with open(listed, "rb") as fh:
            entries = tomllib.load(fh).get("source", [])
        return [{**e, "url": str((folder / e["url"]).resolve())} for e in entries]
    out = []
    for i, p in enumerate(sorted(x for x in folder.iterdir() if x.suffix.lower() in (".xml", ".rss", ".atom", ".json"))):
        role = "release" if "release" in p.name.lower() else "incident" if "incident" in p.name.lower() else "opinion"
        out.append({"name": f"replay-{i}-{p.stem}"[:90].replace(" ", "_"), "url": str(p), "role": role})
    return out


@dataclass
class Story:
    """What the narrator has already told, so each event is told once."""

    items: set[int] = field(default_factory=set)
    steps: set[int] = field(default_factory=set)
    clocks: dict[int, str] = field(default_factory=dict)


def _say(out: TextIO, now: dt.datetime, text: str) -> None:
    out.write(f"[{fmt_bj(now, '%m-%d %H:%M')}] {text}\n")
    out.flush()


STEP_WORDS = {"case_opened": "立案通知", "reminder": "提醒", "final_warning": "最后提醒", "overdue": "超时通报",
              "repeat_overdue": "再次超时通报", "continued_release": "持续发布提醒", "milestone_reminder": "实施方案节点提醒",
              "milestone_overdue": "实施方案节点逾期", "plan_summary": "实施方案汇总"}
STATE_WORDS = {"met": "按时完成", "met_late": "超时完成", "overdue": "已超时", "cancelled": "已取消"}


def narrate(engine: Any, now: dt.datetime, story: Story, out: TextIO) -> None:
    with Session(engine) as s:
        for it in s.exec(select(Item).where(Item.id.not_in(story.items) if story.items else True).order_by(Item.id)).all():
            story.items.add(it.id)
            role = {"release": "发布", "opinion": "舆情", "incident": "突发事件报告", "inquiry": "咨询"}.get(it.role, it.role)
            _say(out, now, f"收到{role}（{it.source_name}）：{it.title}" + (f" —— {it.attach_reason}" if it.attach_reason else ""))
        for case in s.exec(select(Case).order_by(Case.id)).all():
            key = f"case{case.id}:{case.generation}:{case.level}"
            if story.clocks.get(-case.id) == key:
                continue
            first = -case.id not in story.clocks
            story.clocks[-case.id] = key
            lvl = f"{case.level}级（{case.level_name}）" if case.level else "非突发事件"
            _say(out, now, f"{'立案' if first else '更新'} #{case.id}：{lvl}，{case.clock_class} 时限，责任部门 {case.department}"
                 + ("，⚑需人工确认" if case.needs_review else ""))
            if first:
                for r in case.reasons[:4]:
                    out.write(f"           · {r}\n")
        for c in s.exec(select(Clock).where(Clock.case_id.is_not(None)).order_by(Clock.id)).all():
            if story.clocks.get(c.id) == c.state:
                continue
            prev = story.clocks.get(c.id)
            story.clocks[c.id] = c.state
            label = c.policy.get("label", c.obligation)
            if prev is None:
                _say(out, now, f"案件 #{c.case_id} 开始计时：{label}，截止 {fmt_bj(c.deadline_at)}")
            elif c.state in STATE_WORDS:
                extra = f"（{fmt_bj(c.met_at)} 发布）" if c.met_at else ""
                _say(out, now, f"案件 #{c.case_id} {label}：{STATE_WORDS[c.state]}{extra}")
        q = select(ClockStep).order_by(ClockStep.id)
        if story.steps:
            q = q.where(ClockStep.id.not_in(story.steps))
        for st in s.exec(q).all():
            story.steps.add(st.id)
            who = "、".join(st.recipients[:4]) + (f" 等{len(st.recipients)}人" if len(st.recipients) > 4 else "")
            subj = f"案件 #{st.case_id}" if st.case_id else "实施方案"
            _say(out, now, f"{subj} {STEP_WORDS.get(st.step_kind, st.step_kind)} → {who}（{st.messages}条消息排队）")


def summary(engine: Any, report: str | None) -> dict[str, Any]:
    with Session(engine) as s:
        levels = dict(s.exec(select(Case.level, func.count()).group_by(Case.level)).all())
        clocks = dict(s.exec(select(Clock.obligation, func.count()).group_by(Clock.obligation)).all())
        primary = ("release_5h", "response_48h", "press_24h")
        on_time = s.exec(select(func.count()).select_from(Clock).where(Clock.obligation.in_(primary), Clock.state == "met")).one()
        overdue = s.exec(select(func.count()).select_from(Clock).where(Clock.obligation.in_(primary),
                                                                        Clock.state.in_(("overdue", "met_late")))).one()
        sent = dict(s.exec(select(OutboxMessage.channel, func.count()).where(OutboxMessage.status == "sent")
                           .group_by(OutboxMessage.channel)).all())
        reminders = s.exec(select(func.count()).select_from(ClockStep).where(
            ClockStep.step_kind.in_(("reminder", "final_warning", "milestone_reminder")))).one()
        items = s.exec(select(func.count()).select_from(Item)).one()
    return {
        "items": items,
        "cases": {**{k: levels.get(k, 0) for k in LEVEL_KEYS}, "unrated": levels.get(None, 0)},
        "clocks": {"5h": clocks.get("release_5h", 0), "48h": clocks.get("response_48h", 0)},
        "released_on_time": on_time, "overdue": overdue,
        "messages": {"sms": sent.get("sms", 0), "email": sent.get("email", 0)},
        "reminders": reminders, "report": report,
    }


async def simulate(*, state_dir: Path, sources: list[dict[str, Any]], start: dt.datetime, end: dt.datetime, speed: float,
                   out: TextIO, prepare: Any = None, quiet_sinks: bool = False,
                   duty_officer: Any = None) -> dict[str, Any]:
    from responder import pipeline
    from responder.testing.sms_gateway import GatewayStub
    from responder.testing.smtp import SmtpSink

    clock = VirtualClock(start)
    echo = None if quiet_sinks else _Prefixed(clock, out)
    with SmtpSink(echo=echo) as sink, GatewayStub(echo=echo) as sms:
        cfg_path = write_config(state_dir, smtp_port=sink.port, sms_url=sms.url, sources=sources)
        settings = load(cfg_path, require_secrets=False)
        engine = db.make_engine(settings.database_url)
        db.upgrade(engine)
        ctx = pipeline.build_context(settings, engine, owner="demo")
        _say(out, clock.now, f"状态目录 {state_dir}；配置 {cfg_path}")
        if prepare is not None:
            prepare(ctx, clock.now)
        started = pipeline.startup(ctx, clock.now)
        if started["plan_clocks_created"]:
            _say(out, clock.now, f"实施方案：建立 {started['plan_clocks_created']} 个节点提醒时钟（由同一引擎驱动）")
        story = Story()
        report_path: str | None = None
        real_start = time.monotonic()
        while clock.now < end:
            result = await pipeline.tick(ctx, clock.now)
            if duty_officer is not None:
                duty_officer(ctx, clock.now, out)
            narrate(engine, clock.now, story, out)
            if result["weekly"]:
                from responder.models import WeeklyReport

                with Session(engine) as s:
                    wr = s.exec(select(WeeklyReport).where(WeeklyReport.week == result["weekly"])).first()
                report_path = wr.path if wr else str(settings.archive_dir)
                _say(out, clock.now, f"周合规日志 {result['weekly']} 已写入 {report_path} 并排队发送")
                await pipeline.dispatch_step(ctx, clock.now)
            wake = pipeline.next_wakeup(ctx, clock.now)
            nxt = min(t for t in (clock.now + POLL_STEP, wake, end) if t is not None)
            nxt = max(nxt, clock.now + dt.timedelta(minutes=1))
            if speed > 0:
                virtual = (nxt - start).total_seconds() / speed
                delay = virtual - (time.monotonic() - real_start)
                if delay > 0:
                    await asyncio.sleep(min(delay, 2.0))
            clock.advance_to(nxt)
        await pipeline.tick(ctx, clock.now)
        narrate(engine, clock.now, story, out)
        from responder.models import WeeklyReport

        with Session(engine) as s:
            wr = s.exec(select(WeeklyReport).order_by(WeeklyReport.week.desc())).first()
            report_path = wr.path if wr else report_path
        result = summary(engine, report_path)
        engine.dispose()
        return result


def demo_prepare(ctx: Any, now: dt.datetime) -> None:
    """Most units already handed in their work plan (工作方案): only a few get the deadline reminder."""
    from responder.plan import record_done

    if ctx.plan is None:
        return
    late = {"dayan", "jitan", "tjj"}
    for u in ctx.plan.units:
        uid = getattr(u, "id", None) or getattr(u, "unit_id", None)
        if uid and uid not in late:
            record_done(ctx.engine, ctx.settings, ctx.plan, uid, "work_plan", now=now - dt.timedelta(days=2), actor="demo")


def demo_duty_officer(ctx: Any, now: dt.datetime, out: TextIO) -> None:
    """The office's duty officer looks at proposed release matches and confirms them (as a person would)."""
    from responder import engine as eng
    from responder.models import Release

    with Session(ctx.engine) as s:
        pending = s.exec(select(Release).where(Release.status == "proposed",
                                               Release.recorded_at <= now - dt.timedelta(minutes=20))).all()
    for rel in pending:
        eng.decide_proposal(ctx.engine, ctx.settings, rel.id, accept=True, now=now, actor="值班员（演示）")
        _say(out, now, f"值班员确认：发布“{rel.title}”对应案件 #{rel.case_id}（匹配得分 {rel.match_score}）")


def _state_dir(state_dir: str | None, prefix: str) -> Path:
    """The state directory, created and checked writable, or one clear line and exit 2 (never a traceback)."""
    try:
        d = Path(state_dir).resolve() if state_dir else Path(tempfile.mkdtemp(prefix=prefix))
        d.mkdir(parents=True, exist_ok=True)
        probe = d / ".responder-write-test"
        probe.write_bytes(b"")
        probe.unlink()
        return d
    except OSError as exc:
        print(f"错误 / error: --state-dir {state_dir}: {exc.strerror or exc}", file=sys.stderr)
        raise SystemExit(2) from None


def run_demo(*, state_dir: str | None, speed: float, as_json: bool, out: TextIO = sys.stdout) -> dict[str, Any]:
    keep = state_dir is not None
    d = _state_dir(state_dir, "responder-demo-")
    if (d / "responder.db").exists():
        (d / "responder.db").unlink()
        shutil.rmtree(d / "archive", ignore_errors=True)
    t0 = time.monotonic()
    out.write("responder 演示：石台县政务公开办，2022年7月18日至25日（虚拟时钟，每秒约"
              f"{speed / 3600:g}小时；使用真实的采集、研判、计时、通知与报告代码）\n" if speed else
              "responder 演示（不等待，全速）\n")
    res = asyncio.run(simulate(state_dir=d, sources=sample_sources(), start=DEMO_START, end=DEMO_END, speed=speed,
                               out=out, prepare=demo_prepare, duty_officer=demo_duty_officer))
    out.write(f"\n演示结束，用时 {time.monotonic() - t0:.0f} 秒。\n")
    out.write(f"  条目 {res['items']}，案件 {sum(res['cases'].values())}（Ⅰ {res['cases']['I']}，Ⅱ {res['cases']['II']}，"
              f"Ⅲ {res['cases']['III']}，Ⅳ {res['cases']['IV']}，非突发 {res['cases']['unrated']}）\n")
    out.write(f"  5小时时钟 {res['clocks']['5h']}，48小时时钟 {res['clocks']['48h']}；按时完成 {res['released_on_time']}，超时 {res['overdue']}\n")
    out.write(f"  短信 {res['messages']['sms']} 条，邮件 {res['messages']['email']} 条，提醒步骤 {res['reminders']} 次\n")
    out.write(f"  周合规日志：{res['report']}\n")
    if keep:
        out.write(f"  其他命令可以这样查看：responder status -c {d / 'responder.toml'} --as-of '2022-07-25 09:00'\n")
    if as_json:
        out.write(json.dumps(res, ensure_ascii=False) + "\n")
    out.flush()
    return res


def run_replay(*, feeds: str, start: dt.datetime, end: dt.datetime, state_dir: str | None, as_json: bool,
               out: TextIO = sys.stdout) -> dict[str, Any]:
    folder = Path(feeds).resolve()
    if not folder.is_dir():
        raise SystemExit(f"错误 / error: {folder} is not a folder of recorded feeds")
    sources = folder_sources(folder)
    if not sources:
        raise SystemExit(f"错误 / error: no .xml/.rss/.atom/.json feeds in {folder}")
    d = _state_dir(state_dir, "responder-replay-")
    if (d / "responder.db").exists():
        (d / "responder.db").unlink()
    res = asyncio.run(simulate(state_dir=d, sources=sources, start=start, end=end, speed=0, out=out, quiet_sinks=True))
    out.write(json.dumps(res, ensure_ascii=False) + "\n" if as_json else
              f"回放结束：条目 {res['items']}，案件 {sum(res['cases'].values())}，按时 {res['released_on_time']}，超时 {res['overdue']}，"
              f"短信 {res['messages']['sms']}，邮件 {res['messages']['email']}，报告 {res['report']}\n")
    return res

