"""Configuration: the shipped file validates; each class of mistake gives one clear message."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from responder.cli import main
from responder.config import ConfigError, load, read_secret, shipped_config_dir
from responder.service.checks import load_checked

SHIPPED = shipped_config_dir() / "responder.toml"


@pytest.fixture
def cfg(tmp_path: Path) -> Path:
    """A copy of the shipped configuration directory, to break on purpose."""
    d = tmp_path / "config"
    shutil.copytree(shipped_config_dir(), d)
    path = d / "responder.toml"
    templates = shipped_config_dir().parent / "templates"
    path.write_text(path.read_text(encoding="utf-8").replace('templates = "../templates"', f'templates = "{templates}"'),
                    encoding="utf-8")
    return path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def problems(path: Path, **kw) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        load_checked(path, **kw)
    return exc.value.problems


def test_shipped_configuration_passes_check_config():
    """`responder check-config -c config/responder.toml` passes on the shipped example."""
    r = CliRunner().invoke(main, ["check-config", "-c", str(SHIPPED)])
    assert r.exit_code == 0, r.output
    assert "配置有效" in r.output and "公开领域 domains: 30" in r.output


def test_unknown_key_is_named_with_a_suggestion(cfg):
    """A misspelt key names the file, the key path, and the key it probably meant."""
    edit(cfg, "port = 8025", "prot = 8025")
    (p,) = problems(cfg)
    assert str(cfg) in p and "notify.email.prot: unknown key (did you mean 'port'?)" in p


def test_wrong_type_is_named(cfg):
    """A value of the wrong type names the key and the value."""
    edit(cfg, "sms_per_window = 5", 'sms_per_window = "five"')
    (p,) = problems(cfg)
    assert "notify.limits.sms_per_window" in p and "'five'" in p


def test_source_entries_are_named_by_their_name(cfg):
    """A bad source role names the source entry by its name."""
    edit(cfg, 'role = "incident"', 'role = "rumour"')
    (p,) = problems(cfg)
    assert "source[1] (sample-incident).role" in p


def test_department_that_does_not_exist(cfg):
    """A 附件2 domain naming a department that is not a unit is refused."""
    edit(cfg.parent / "domains.toml", 'departments = ["县教体局"]', 'departments = ["县教育局"]')
    (p,) = problems(cfg)
    assert "'县教育局'" in p and "not a unit" in p and "义务教育" in p


def test_phone_that_is_not_a_mainland_mobile(cfg):
    """A contact phone that is not a mainland mobile number is refused, naming the unit and role."""
    edit(cfg.parent / "units.toml", 'phone = "13800000004"', 'phone = "0566-1234567"')
    (p,) = problems(cfg)
    assert "unit #2 (fgw)" in p and "liaison" in p and "not a mainland mobile number" in p


def test_missing_secret_names_the_variable_and_the_credential(cfg, monkeypatch):
    """A configured secret that is not set names the key, the env variable and the credential name."""
    edit(cfg, '# password_secret = "smtp_password"', 'password_secret = "smtp_password"')
    monkeypatch.delenv("RESPONDER_SMTP_PASSWORD", raising=False)
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    (p,) = problems(cfg)
    assert "notify.email.password_secret" in p and "$RESPONDER_SMTP_PASSWORD" in p and "'smtp_password'" in p


def test_secret_from_systemd_credentials_directory(cfg, tmp_path, monkeypatch):
    """A secret is read from $CREDENTIALS_DIRECTORY/<name> (LoadCredential=) and never from the TOML."""
    edit(cfg, '# password_secret = "smtp_password"', 'password_secret = "smtp_password"')
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "smtp_password").write_text("s3cret\n")
    monkeypatch.delenv("RESPONDER_SMTP_PASSWORD", raising=False)
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    s = load(cfg)
    assert s.secret("smtp_password") == "s3cret" and "s3cret" not in repr(s)
    assert read_secret("smtp_password", {"RESPONDER_SMTP_PASSWORD": "env wins", "CREDENTIALS_DIRECTORY": str(creds)}) == "env wins"


def test_invalid_toml_and_missing_file(cfg, tmp_path):
    """Broken TOML and a missing file each give one line naming the file."""
    cfg.write_text("[service\n", encoding="utf-8")
    (p,) = problems(cfg)
    assert "not valid TOML" in p
    (p,) = problems(tmp_path / "nope.toml")
    assert "configuration file not found" in p


def test_several_problems_are_all_reported(cfg):
    """All problems are listed at once, so the operator fixes them in one go."""
    edit(cfg, "port = 8025", "prot = 8025")
    edit(cfg, 'log_level = "info"', 'log_level = "loud"')
    assert len(problems(cfg)) == 2


def test_check_config_exits_2_and_prints_each_problem(cfg):
    """The CLI refuses a bad configuration with exit status 2 and the problem on stderr."""
    edit(cfg, "port = 8025", "prot = 8025")
    r = CliRunner().invoke(main, ["check-config", "-c", str(cfg)])
    assert r.exit_code == 2 and "prot" in r.output and "服务不会启动" in r.output


def test_state_directory_from_systemd_wins(cfg, monkeypatch, tmp_path):
    """$STATE_DIRECTORY (systemd StateDirectory=) decides where the SQLite file lives."""
    monkeypatch.setenv("STATE_DIRECTORY", str(tmp_path / "lib"))
    s = load(cfg)
    assert s.database_url.endswith(f"{tmp_path}/lib/responder.db")


def test_routing_to_a_department_that_does_not_exist(cfg):
    """Routing data that sends cases to an unknown department is refused at load, not when a case arrives."""
    edit(cfg.parent / "routing.toml", 'department = "县应急管理局"', 'department = "县安监局"')
    ps = problems(cfg)
    assert any("'县安监局'" in p and "routing.toml" in p for p in ps)


def test_bad_policy_file_is_refused(cfg):
    """A policy naming an undefined ladder is refused with the file and key."""
    edit(cfg.parent / "policies.toml", 'ladder = "ordinary"', 'ladder = "gentle"')
    ps = problems(cfg)
    assert any("policies.toml" in p and "'gentle'" in p for p in ps)


def test_bad_weekly_slot_is_refused_at_load(cfg):
    """A weekly-report slot that cannot be parsed is refused when the configuration loads, not on Monday."""
    edit(cfg, 'weekly_report = "mon 08:30"', 'weekly_report = "monday 8.30"')
    ps = problems(cfg)
    assert any("schedule.weekly_report" in p for p in ps)


def test_bundle_timers_are_validated(cfg):
    """Issue 17: `[notify] bundle_window_s` (0–600) and `bundle_repeat_s` (0–7200, not below the window) are
    checked by check-config, naming the key."""
    edit(cfg, "bundle_window_s = 60", "bundle_window_s = 601")
    (p,) = problems(cfg)
    assert "notify.bundle_window_s" in p and "601" in p
    edit(cfg, "bundle_window_s = 601", "bundle_window_s = 120")
    edit(cfg, "bundle_repeat_s = 7200", "bundle_repeat_s = 90")
    (p,) = problems(cfg)
    assert "bundle_repeat_s (90) must be at least bundle_window_s (120)" in p
