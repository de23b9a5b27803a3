"""E-mail channel against a real SMTP server (aiosmtpd) on loopback: TLS, STARTTLS, plain; parsed on receipt."""

from __future__ import annotations

import asyncio
import warnings

import pytest

from responder.notify.channels.base import ChannelError, OutgoingMessage
from responder.notify.channels.email import EmailChannel, message_id
from responder.testing.smtp import SmtpSink

warnings.filterwarnings("ignore", message="Session.login_data is deprecated")

MSG = OutgoingMessage(key="clock:7|g1:s2|email|fgw:liaison", address="fgw.liaison@shitai.example", kind="overdue",
                      subject="【石台县】【已超时】仙寓镇停水", text="王建国同志：\n\n舆情已超时1小时30分。\n",
                      html="<p>王建国同志：</p><p>舆情已超时<b>1小时30分</b>。</p>")


def channel(sink: SmtpSink, **kw) -> EmailChannel:
    args = dict(host="127.0.0.1", port=sink.port, security=sink.security, from_addr="responder@shitai.example",
                from_name="石台县政务公开办舆情提醒", ca_file=sink.ca_file, timeout=5.0)
    if sink.username:
        args.update(username=sink.username, password=sink.password)
    args.update(kw)
    return EmailChannel(**args)


async def send_all(ch: EmailChannel, *msgs: OutgoingMessage):
    try:
        return [await ch.send(m) for m in msgs]
    finally:
        await ch.flush()


@pytest.mark.parametrize("security", ["ssl", "starttls", "plain"])
def test_email_arrives_with_utf8_subject_both_parts_and_stable_message_id(security):
    """Over implicit TLS, STARTTLS and plain, with login: encoded-word subject, base64 text + HTML, Message-ID from the key."""
    with SmtpSink(security=security, username="responder", password="s3cret") as sink:
        [res] = asyncio.run(send_all(channel(sink), MSG))
        [rec] = sink.messages
    assert rec.rcpt_tos == [MSG.address] and rec.mail_from == "responder@shitai.example"
    assert b"Subject: =?utf-8?b?" in rec.raw  # 7-bit clean header
    assert rec.subject == MSG.subject
    assert "石台县政务公开办舆情提醒" in str(rec.message["From"])
    assert rec.message.get_content_type() == "multipart/alternative"
    parts = {p.get_content_type(): p for p in rec.message.walk() if not p.is_multipart()}
    assert set(parts) == {"text/plain", "text/html"}
    assert all(p["Content-Transfer-Encoding"] == "base64" and p.get_content_charset() == "utf-8" for p in parts.values())
    assert rec.part("plain").replace("\r\n", "\n") == MSG.text
    assert "<b>1小时30分</b>" in rec.part("html")
    assert rec.message["Message-ID"] == message_id(MSG.key, "responder.local") == res.provider_id


def test_email_wrong_password_is_permanent():
    """A refused login (535) is permanent: retrying with the same secret cannot work."""
    with SmtpSink(security="starttls", username="responder", password="s3cret") as sink:
        with pytest.raises(ChannelError) as e:
            asyncio.run(send_all(channel(sink, password="wrong"), MSG))
    assert e.value.permanent and e.value.code.startswith("SMTP 5")


def test_email_batch_reuses_one_connection_and_no_reuse_opens_one_each():
    """Three messages in a batch come over one connection; with reuse off, over three."""
    msgs = [OutgoingMessage(key=f"k{i}", address="a@shitai.example", kind="test", subject="测试", text="正文") for i in range(3)]
    with SmtpSink() as sink:
        asyncio.run(send_all(channel(sink), *msgs))
        asyncio.run(send_all(channel(sink, reuse=False), *msgs))
        peers = [r.peer for r in sink.messages]
    assert len(set(peers[:3])) == 1 and len(set(peers[3:])) == 3


def test_email_temporary_refusal_retries_and_recipient_rejection_is_permanent():
    """451 is retryable; 550 for the recipient is permanent (RFC 5321)."""
    with SmtpSink() as sink:
        sink.fail_next = 1
        with pytest.raises(ChannelError) as e:
            asyncio.run(send_all(channel(sink), MSG))
        assert not e.value.permanent and e.value.code == "SMTP 451"
        sink.reject_rcpt[MSG.address] = "550 5.1.1 No such user"
        with pytest.raises(ChannelError) as e:
            asyncio.run(send_all(channel(sink), MSG))
        assert e.value.permanent and e.value.code == "SMTP 550"
        assert not sink.messages


def test_email_server_down_is_retryable_and_back_up_delivers():
    """SMTP down: a retryable connect error; the same channel delivers once the server is back on its port."""
    sink = SmtpSink()
    ch = channel(sink)
    with pytest.raises(ChannelError) as e:
        asyncio.run(send_all(ch, MSG))
    assert not e.value.permanent and e.value.code == "connect"
    with sink:
        asyncio.run(send_all(ch, MSG))
        assert len(sink.messages) == 1


def test_email_repeat_is_marked_in_subject_text_and_header():
    """A resend after an unknown outcome says so: 【重发】 subject, a note in the text, X-Responder-Repeat."""
    from dataclasses import replace

    with SmtpSink() as sink:
        asyncio.run(send_all(channel(sink), replace(MSG, repeat=True)))
        [rec] = sink.messages
    assert rec.subject.startswith("【重发】") and "重发" in rec.part("plain") and rec.message["X-Responder-Repeat"] == "yes"
    assert rec.message["Message-ID"] == message_id(MSG.key, "responder.local")
