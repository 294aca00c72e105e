"""Settings: defaults, then liver-audit.toml, then flags; bad files named in one line."""

from pathlib import Path

import pytest

from liver_audit.config import check_schedule, load_settings
from liver_audit.errors import UnusableInput

NO_FLAGS: dict = {}


def write_config(folder: Path, text: str) -> Path:
    path = folder / "liver-audit.toml"
    path.write_text(text)
    return path


def test_defaults_apply_without_a_config_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LIVER_AUDIT_CONFIG", raising=False)
    settings = load_settings(NO_FLAGS)
    assert settings.warehouse == Path("data/warehouse.duckdb")
    assert settings.schedule == "0 2 * * *" and settings.timezone == "Europe/London"
    assert settings.inbox is None and settings.move_processed is False
    assert set(settings.sources.values()) == {"default"}


def test_the_file_overrides_defaults_and_flags_override_the_file(tmp_path):
    config = write_config(
        tmp_path,
        'warehouse = "store/wh.duckdb"\ninbox = "inbox"\nmove_processed = true\n'
        'timezone = "UTC"\nwait_for_warehouse = 60\n',
    )
    settings = load_settings({"timezone": "Europe/Paris"}, str(config))
    # paths in the file are relative to the file's folder
    assert settings.warehouse == tmp_path / "store/wh.duckdb"
    assert settings.inbox == tmp_path / "inbox"
    assert settings.move_processed is True and settings.wait_for_warehouse == 60
    assert settings.timezone == "Europe/Paris"
    assert settings.sources["warehouse"] == str(config)
    assert settings.sources["timezone"] == "--timezone"
    assert settings.sources["reports"] == "default"


def test_the_config_path_can_come_from_the_environment(tmp_path, monkeypatch):
    config = write_config(tmp_path, 'reports = "out"\n')
    monkeypatch.setenv("LIVER_AUDIT_CONFIG", str(config))
    assert load_settings(NO_FLAGS).reports == tmp_path / "out"


@pytest.mark.parametrize(
    "text, message",
    [
        ('warehose = "x"\n', "unknown setting 'warehose'"),
        ("move_processed = 1\n", "setting 'move_processed' must be bool"),
        ('wait_for_warehouse = "60"\n', "setting 'wait_for_warehouse' must be int"),
        ("warehouse = \n", "not valid TOML"),
    ],
)
def test_a_bad_config_file_is_named_in_one_line(tmp_path, text, message):
    config = write_config(tmp_path, text)
    with pytest.raises(UnusableInput, match=f"^{config}: .*{message}"):
        load_settings(NO_FLAGS, str(config))


def test_a_named_config_file_must_exist(tmp_path):
    with pytest.raises(UnusableInput, match="no such config file"):
        load_settings(NO_FLAGS, str(tmp_path / "missing.toml"))


@pytest.mark.parametrize(
    "flags, message",
    [
        ({"timezone": "Mars/Olympus"}, "--timezone: unknown timezone 'Mars/Olympus'"),
        ({"schedule": "0 25 * * *"}, "--schedule: '0 25 \\* \\* \\*' is not a valid cron"),
    ],
)
def test_the_schedule_is_checked(tmp_path, monkeypatch, flags, message):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UnusableInput, match=message):
        check_schedule(load_settings(flags))


def test_the_new_settings_have_their_defaults(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LIVER_AUDIT_CONFIG", raising=False)
    settings = load_settings(NO_FLAGS)
    assert settings.rules.name == "rules" and settings.rules.is_absolute()
    assert settings.opcs_version_date == "procedure_date"
    assert settings.code_check_scope == "liver_episodes"


@pytest.mark.parametrize("value", ["procedure_date", "episode_end", "episode_start", "admission"])
def test_opcs_version_date_takes_the_four_dates(tmp_path, value):
    config = write_config(tmp_path, f'opcs_version_date = "{value}"\n')
    assert load_settings(NO_FLAGS, str(config)).opcs_version_date == value


def test_another_opcs_version_date_is_refused_in_one_line_naming_where_it_came_from(tmp_path):
    config = write_config(tmp_path, 'opcs_version_date = "discharge"\n')
    with pytest.raises(UnusableInput, match=f"^{config}: opcs_version_date 'discharge'") as error:
        load_settings(NO_FLAGS, str(config))
    assert "procedure_date, episode_end, episode_start or admission" in str(error.value)
    assert "\n" not in str(error.value)
    with pytest.raises(UnusableInput, match="^--opcs-version-date: opcs_version_date 'x'"):
        load_settings({"opcs_version_date": "x"}, str(config))


def test_code_check_scope_takes_liver_or_all_episodes_and_refuses_the_rest(tmp_path):
    config = write_config(tmp_path, 'code_check_scope = "all_episodes"\n')
    assert load_settings(NO_FLAGS, str(config)).code_check_scope == "all_episodes"
    with pytest.raises(
        UnusableInput,
        match="^--code-check-scope: code_check_scope 'all' is not liver_episodes or all_episodes$",
    ):
        load_settings({"code_check_scope": "all"}, str(config))


def test_environment_knobs_that_are_settings_are_read_into_the_settings(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LIVER_AUDIT_MEMORY_LIMIT", "3GB")
    settings = load_settings(NO_FLAGS)
    assert settings.memory_limit == "3GB"
    assert settings.sources["memory_limit"] == "LIVER_AUDIT_MEMORY_LIMIT"
    assert settings.load_workers == 2 and settings.sources["load_workers"] == "default"


REPORT_SETTINGS = [
    # (setting, value as in liver-audit.toml, accepted)
    ("since", '"2025-04-01"', True),
    ("since", '"20250401"', False),  # Python takes it; DuckDB's date does not
    ("since", '"2025-W14-1"', False),
    ("since", '"2025-02-30"', False),
    ("financial_year", '"2025-26"', True),
    ("financial_year", '"1999-00"', True),
    ("financial_year", '"2025-27"', False),
    ("financial_year", '"2025"', False),
    ("compliant_sample", "5", True),  # an integer percent is a percent
    ("compliant_sample", "0.5", True),
    ("compliant_sample", "100.5", False),
    ("compliant_sample", "-1", False),
    ("sample_seed", "7", True),
    ("provider", '"RXA"', True),
]


@pytest.mark.parametrize("name, value, accepted", REPORT_SETTINGS)
def test_the_report_settings_are_checked_in_one_line(tmp_path, name, value, accepted):
    config = write_config(tmp_path, f"{name} = {value}\n")
    if accepted:
        load_settings(NO_FLAGS, str(config))
        return
    with pytest.raises(UnusableInput, match=f"^{config}: {name} '") as error:
        load_settings(NO_FLAGS, str(config))
    assert "\n" not in str(error.value)
