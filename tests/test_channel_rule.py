"""One rule for "is this channel on?", asked by the engine, the dispatcher and the loader alike.

Before, the engine enqueued group-robot rows whenever ``robot`` was listed,
while the dispatcher (and the loader) also looked at ``kind``: with
``kind = "none"`` the rows were written and then cancelled.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import Session, select

from responder import db
from responder import engine as eng
from responder.notify.channels import deliberately_off
from responder.config import load
from responder.config.notify import NotifyConfig, channel_on, channels_on
from responder.engine.inputs import channels_for
from responder.models import OutboxMessage
from responder.testing.engine import add_item, make_test_settings

UTC = dt.timezone.utc


@pytest.mark.parametrize(("notify", "expected"), [
    ({"channels": ["sms", "email", "robot"]}, []),  # shipped defaults: no SMS provider, robot kind none
    ({"channels": ["sms", "email"], "sms": {"provider": "http"}}, ["sms", "email"]),
    ({"channels": ["email", "robot"], "robot": {"kind": "wecom"}}, ["email", "robot"]),
    ({"channels": ["email", "robot"], "robot": {"kind": "wecom", "enabled": False}}, ["email"]),
    ({"channels": ["email"], "email": {"enabled": False}}, []),
    ({"channels": ["sms"], "sms": {"provider": "aliyun", "enabled": False}}, []),
])
def test_channel_rule_table(notify, expected):
    """A channel is on when listed, enabled and given a provider (robot: a kind); email needs only enabled."""
    n = NotifyConfig.model_validate(notify)
    got = channels_on(n)
    if "email" in n.channels and n.email.enabled:
        expected = expected if "email" in expected else [*expected, "email"]
    assert sorted(got) == sorted(expected)
    for c in ("sms", "email", "robot"):
        assert channel_on(n, c) == (c in got)


def test_robot_kind_none_enqueues_no_robot_rows(tmp_path):
    """robot listed in channels but kind = "none": a case's steps enqueue no robot row at all, and the
    engine, the dispatcher and the loader agree that the robot is off."""
    base = make_test_settings(tmp_path)
    text = base.path.read_text(encoding="utf-8").replace('channels = ["sms", "email"]', 'channels = ["sms", "email", "robot"]')
    assert 'channels = ["sms", "email", "robot"]' in text
    text += '\n[notify.robot]\nkind = "none"\nwebhook_secret = "robot_webhook"\n'
    base.path.write_text(text, encoding="utf-8")
    s = load(base.path)  # a robot that is off needs no webhook secret
    assert channels_for(s) == ["sms", "email"]
    assert deliberately_off(s, "robot")
    e = db.make_engine(s.database_url)
    db.upgrade(e)
    t = dt.datetime(2022, 7, 18, 2, 0, tzinfo=UTC)
    add_item(e, title="石台县丁香镇一化工厂发生爆炸 已致12人死亡", text="已造成12人死亡。", published_at=t, first_seen_at=t)
    eng.open_cases(e, s, t)
    assert eng.advance(e, s, t).messages > 0
    with Session(e) as session:
        channels = {m.channel for m in session.exec(select(OutboxMessage)).all()}
    e.dispose()
    assert channels == {"sms", "email"}
