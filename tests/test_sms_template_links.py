"""Links and reply codes in provider-registered SMS templates (issue 17): Alibaba and Tencent send templates
with parameters, so the link's token and the reply code travel as the parameters ``link`` and ``code``
(``templates/sms/params.toml``); seen here in the request each loopback provider verified the signature of."""

from __future__ import annotations

import json
import re
import shutil

from click.testing import CliRunner
from sqlmodel import Session, select

from responder.cli import main
from responder.config import load
from responder.models import MessageLink, OutboxMessage, ReplyCode
from responder.notify.links import token_hash
from responder.service.checks import run_checks, run_warnings
from responder.testing.engine import make_test_settings
from responder.testing.sms_gateway import AliyunFake, TencentFake
from test_web_links import NOW, PUBLIC, dispatch, open_fire

LADDER = ("case_opened", "reminder", "final_warning", "overdue", "repeat_overdue", "continued_release")
CODES = {k: f"SMS_{i:03d}" for i, k in enumerate(LADDER)}


def provider_settings(tmp_path, monkeypatch, fake, provider: str, *, web: str = f'public_url = "{PUBLIC}"\n',
                      replies: bool = True, strip_params: bool = False):
    """The shipped configuration with SMS through ``fake`` (signed like the provider), links and replies on."""
    monkeypatch.setenv("RESPONDER_SMS_REPLY_TOKEN", "t" * 32)
    monkeypatch.setenv("RESPONDER_PROVIDER_AK", "testid" if provider == "aliyun" else "AKIDEXAMPLE")
    monkeypatch.setenv("RESPONDER_PROVIDER_SK", "testsecret" if provider == "aliyun" else "SECRETEXAMPLE")
    extra = "[web]\n" + web + ("[notify.replies]\nenabled = true\n" if replies else "")
    s = make_test_settings(tmp_path, sms=False, extra_toml=extra)
    codes = ", ".join(f'{k} = "{v}"' for k, v in CODES.items())
    sms = (f'provider = "{provider}"\nendpoint = "{fake.url}"\nsign_name = "石台县政务公开"\n'
           'access_key_id_secret = "provider_ak"\naccess_key_secret_secret = "provider_sk"\n'
           f'sdk_app_id = "1400006666"\nparam_max_len = 20\ntemplates = {{ {codes}, _generic = "SMS_999" }}\n')
    text = s.path.read_text(encoding="utf-8")
    text = re.sub(r'^provider = "none".*$', sms.replace("\\", "\\\\"), text, count=1, flags=re.M)
    if strip_params:  # registered templates without ${link} / ${code}
        tdir = tmp_path / "templates"
        shutil.copytree(s.data_paths["templates"], tdir)
        p = tdir / "sms" / "params.toml"
        p.write_text(re.sub(r"^(link|code) = .*\n", "", p.read_text(encoding="utf-8"), flags=re.M), encoding="utf-8")
        text = re.sub(r'^templates = ".*"$', f'templates = "{tdir}"', text, count=1, flags=re.M)
    s.path.write_text(text, encoding="utf-8")
    return load(s.path)


def sent_to(engine, fake) -> list[tuple[OutboxMessage, dict]]:
    with Session(engine) as s:
        rows = s.exec(select(OutboxMessage).where(OutboxMessage.channel == "sms")).all()
    by_phone = {r.address: r for r in rows}
    return [(by_phone[m["phone"]], m["params"]) for m in fake.sent]


def test_alibaba_template_carries_the_link_token_and_the_code(tmp_path, engine, monkeypatch):
    """SendSms (ACS3-signed, checked by the fake) carries TemplateParam {…, "link": <the person's token>,
    "code": <the case's reply code>}; the token opens that person's link, the code is the case's."""
    with AliyunFake(templates=set(CODES.values()) | {"SMS_999"}) as f:
        settings = provider_settings(tmp_path, monkeypatch, f, "aliyun")
        assert run_checks(settings) == [] and run_warnings(settings) == []
        case_id = open_fire(engine, settings)
        dispatch(engine, settings, NOW)
        assert f.signature_versions and set(f.signature_versions) == {"v3"}
        got = sent_to(engine, f)
    assert got and all(m["template"] == CODES["case_opened"] for m in f.sent)
    with Session(engine) as s:
        code = s.exec(select(ReplyCode).where(ReplyCode.case_id == case_id)).one().code
        links = {ln.token_hash: ln for ln in s.exec(select(MessageLink)).all()}
    for row, params in got:
        assert list(params)[-2:] == ["link", "code"] and params["code"] == code
        link = links[token_hash(params["link"])]
        assert (link.case_id, link.recipient) == (case_id, row.recipient)
        assert len(params["link"]) == 11 and all(len(v) <= 20 for v in params.values())


def test_tencent_template_carries_them_in_order(tmp_path, engine, monkeypatch):
    """Tencent's parameters are positional: the token and the code are the last two of TemplateParamSet (TC3-signed)."""
    with TencentFake(templates=set(CODES.values()) | {"SMS_999"}) as f:
        settings = provider_settings(tmp_path, monkeypatch, f, "tencent")
        case_id = open_fire(engine, settings)
        dispatch(engine, settings, NOW)
        got = sent_to(engine, f)
    assert got
    with Session(engine) as s:
        code = s.exec(select(ReplyCode).where(ReplyCode.case_id == case_id)).one().code
        hashes = {ln.token_hash for ln in s.exec(select(MessageLink)).all()}
    for _row, params in got:
        assert isinstance(params, list) and params[-1] == code and token_hash(params[-2]) in hashes


def test_templates_without_the_variables_omit_them_and_check_config_warns(tmp_path, engine, monkeypatch):
    """Registered templates without ${link}/${code}: nothing is passed for them, and check-config warns that
    links and codes are on but these templates cannot carry them (the configuration still passes)."""
    with AliyunFake(templates=set(CODES.values()) | {"SMS_999"}) as f:
        settings = provider_settings(tmp_path, monkeypatch, f, "aliyun", strip_params=True)
        assert run_checks(settings) == []
        warnings = run_warnings(settings)
        open_fire(engine, settings)
        dispatch(engine, settings, NOW)
    assert f.sent and all("link" not in m["params"] and "code" not in m["params"] for m in f.sent)
    assert len(warnings) == 2
    assert "links are on" in warnings[0] and "case_opened" in warnings[0] and "no parameter link" in warnings[0]
    assert "reply codes are on" in warnings[1] and "no parameter code" in warnings[1]
    r = CliRunner().invoke(main, ["check-config", "-c", str(settings.path), "--json"])
    assert r.exit_code == 0, r.output
    assert len(json.loads(r.stdout)["warnings"]) == 2


def test_declared_but_off_warns_and_a_wrong_expression_is_refused(tmp_path, monkeypatch):
    """Links and codes off while the templates declare them: a warning (sent empty). A link parameter that does
    not render the token is a configuration error naming the file, the kind and the key."""
    with AliyunFake() as f:
        settings = provider_settings(tmp_path, monkeypatch, f, "aliyun", web="", replies=False)
        w = run_warnings(settings)
        assert len(w) == 2 and all("are off" in x and "sent empty" in x for x in w)
        tdir = tmp_path / "templates"
        shutil.copytree(settings.data_paths["templates"], tdir)
        p = tdir / "sms" / "params.toml"
        p.write_text(p.read_text(encoding="utf-8").replace(
            "[overdue]\n", "[overdue]\n", 1).replace(
            'link = "{{ link_token | default(\'\') }}"\ncode = "{{ reply_code | default(\'\') }}"\n\n[repeat_overdue]',
            'link = "{{ link_url | default(\'\') }}"\ncode = "{{ reply_code | default(\'\') }}"\n\n[repeat_overdue]', 1),
            encoding="utf-8")
        text = settings.path.read_text(encoding="utf-8")
        settings.path.write_text(re.sub(r'^templates = ".*"$', f'templates = "{tdir}"', text, count=1, flags=re.M),
                                 encoding="utf-8")
        problems = run_checks(load(settings.path))
    assert any("[overdue] link: must carry the link" in x for x in problems), problems


def test_ladder_kinds_on_the_generic_template_warn(tmp_path, monkeypatch):
    """Kinds without their own template go through _generic, whose clipped ${text} loses the link: a warning."""
    with AliyunFake() as f:
        settings = provider_settings(tmp_path, monkeypatch, f, "aliyun")
        text = settings.path.read_text(encoding="utf-8").replace(f'overdue = "{CODES["overdue"]}", ', "", 1)
        settings.path.write_text(text, encoding="utf-8")
        w = run_warnings(load(settings.path))
    assert len(w) == 1 and "overdue go through _generic" in w[0]
