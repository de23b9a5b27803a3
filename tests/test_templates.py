"""The shipped templates render every kind safely: sandboxed, strict, escaped, masked, Beijing time, within limits."""

from __future__ import annotations

from pathlib import Path

import pytest

from responder.masking import mask_text
from responder.notify.render import KINDS, Renderer, RenderError, bj, fallback_text, fit_params, sample_contexts

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer.from_dir(TEMPLATES)


def test_every_shipped_template_passes_the_check(renderer):
    """check_all renders every kind × channel with sample contexts: no problem, SMS ≤ 300, params ≤ 35."""
    assert renderer.check_all(sms_limit=300, param_limit=35) == []


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_renders_sms_email_and_params(renderer, kind):
    """Every kind of docs/messages.md has an SMS text, an e-mail (subject, text, HTML) and provider params."""
    for _variant, ctx in sample_contexts(kind):
        sms = renderer.render_sms(kind, ctx)
        subject, text, html = renderer.render_email(kind, ctx)
        assert sms.startswith("【石台县政务公开】") and "\xa0" not in sms
        assert subject and "\n" not in subject and text.strip() and html.lstrip().startswith("<!DOCTYPE html>")
        assert renderer.sms_params(kind, ctx)


def test_feed_text_is_masked_escaped_and_truncated(renderer):
    """A hostile feed title: phone/ID masked everywhere, HTML escaped, SMS clipped."""
    # Without the issue-17 link, which adds its own fixed length (checked against the budget by check_all).
    ctx = {k: v for k, v in sample_contexts("overdue")[1][1].items() if not k.startswith("link_") and k != "reply_code"}
    sms = renderer.render_sms("overdue", ctx)
    subject, text, html = renderer.render_email("overdue", ctx)
    for out in (sms, subject, text, html):
        assert "13912345678" not in out and "340823199001011234" not in out
    assert "139****5678" in text
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert len(sms) < 160 and "…" in sms


def test_times_are_shown_in_beijing_time(renderer):
    """Context times are UTC ISO strings; people see Beijing time (UTC+8)."""
    ctx = sample_contexts("case_opened")[0][1]
    assert "2022-07-15 15:00" in renderer.render_sms("case_opened", ctx)  # 07:00Z
    assert bj("2022-07-15T16:30:00Z") == "2022-07-16 00:30"
    assert bj("2022-07-31") == "2022-07-31"


def test_missing_variable_is_an_error_not_an_empty_string(renderer):
    """StrictUndefined: a context without deadline_at fails loudly."""
    ctx = dict(sample_contexts("reminder")[0][1])
    del ctx["deadline_at"]
    with pytest.raises(RenderError, match="deadline_at"):
        renderer.render_sms("reminder", ctx)


def test_sandbox_refuses_python_internals(tmp_path):
    """An operator template cannot reach Python internals; check_all reports it."""
    (tmp_path / "sms").mkdir()
    (tmp_path / "email").mkdir()
    (tmp_path / "sms" / "test.txt").write_text("{{ text.__class__.__mro__[1].__subclasses__() }}", encoding="utf-8")
    r = Renderer.from_dir(tmp_path)
    with pytest.raises(RenderError):
        r.render_sms("test", {"text": "x", "county": "石台县"})


def test_broken_template_is_reported_by_the_check(tmp_path):
    """A syntax error and a missing template are named by check_all (caught at check-config, not when due)."""
    (tmp_path / "sms").mkdir()
    (tmp_path / "email").mkdir()
    (tmp_path / "sms" / "test.txt").write_text("{% if %}", encoding="utf-8")
    problems = Renderer.from_dir(tmp_path).check_all(kinds=("test",))
    assert any("sms/test.txt" in p for p in problems)
    assert any("email/test.subject.txt: template not found" in p for p in problems)


def test_fallback_text_is_chinese_and_never_fails():
    """The built-in message needs no template and survives a context with nothing in it."""
    assert "已超时" in fallback_text("overdue", {"case_title": "停水13912345678", "deadline_at": "2022-07-15T07:00:00Z"})
    assert "139****5678" in fallback_text("overdue", {"case_title": "停水13912345678"})
    assert fallback_text("digest", {}) and fallback_text("no_such_kind", {})


def test_fit_params_clips_to_the_provider_limit():
    """Over-long parameters are clipped (with …) and named, never refused."""
    out, clipped = fit_params({"title": "一" * 30, "n": "3"}, 12)
    assert out["title"] == "一" * 11 + "…" and out["n"] == "3" and clipped == ["title"]


@pytest.mark.parametrize("raw,masked", [
    ("电话13812345678", "电话138****5678"),
    ("+86 138-1234-5678", "+86 138****5678"),
    ("身份证34082319900101123X", "身份证3408************3X"),
    ("座机0566-5123456", "座机0566-***3456"),
    ("2022年7月15日 编号20220715001", "2022年7月15日 编号20220715001"),
])
def test_mask_text(raw, masked):
    """Mobile, landline and ID numbers are masked; dates and serials are left alone."""
    assert mask_text(raw) == masked


def test_digest_html_escapes_feed_text_from_its_text_partial(renderer):
    """digest.html includes the text partial _item.txt: the partial is escaped in the HTML mail (issue 13) and
    stays plain in the text mail, so a feed title's <img>/<script> never lands raw in officials' mail."""
    ctx = dict(sample_contexts("digest")[0][1])
    hostile = "{{ 7 * 7 }}<img src=x onerror=alert(2)><script>alert(1)</script>"
    ctx["items"] = [{"kind": "reminder", "context": {**ctx["items"][0]["context"], "case_title": hostile}}]
    _subject, text, html = renderer.render_email("digest", ctx)
    assert "<img" not in html and "<script" not in html.lower()
    assert "&lt;img src=x onerror=alert(2)&gt;" in html and "&lt;script&gt;" in html
    assert "<img src=x" in text  # plain text mail shows the title as written, not entity soup
    assert "{{ 7 * 7 }}" in text and "49" not in text.replace("2022-07", "")


def test_check_all_reports_a_template_that_prints_feed_text_raw(tmp_path):
    """check-config's template check fails an operator template that marks feed text |safe."""
    import shutil

    shutil.copytree(TEMPLATES, tmp_path / "t")
    (tmp_path / "t" / "email" / "overdue.html").write_text(
        '{% extends "email/_layout.html" %}{% block body %}{{ case_title | safe }}{% endblock %}', encoding="utf-8")
    problems = Renderer.from_dir(tmp_path / "t").check_all()
    assert any("email/overdue.html" in p and "unescaped" in p for p in problems), problems


def test_the_bundle_template_params_carry_its_one_reply_code(renderer):
    """Templated SMS (Alibaba/Tencent) of a bundle end with ``code``: the one code that signs for every case
    in it (issue 17); empty when replies are off, so the registered text still reads."""
    (_, with_code), (_, without) = sample_contexts("bundle")
    params = renderer.sms_params("bundle", with_code)
    assert list(params)[-1] == "code" and params["code"] == "4821"
    assert renderer.sms_params("bundle", without)["code"] == ""
