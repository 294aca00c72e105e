"""The nightly deployment's parameters: the settings as JSON, paths absolute, read back by
the flow into the same settings (a deployment's runs start in another process)."""

import json
from pathlib import Path

from flows.audit import audit_run
from flows.nightly import nightly_parameters
from liver_audit.config import default_settings


def test_the_settings_go_to_the_deployment_as_json_and_come_back_whole(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = default_settings(inbox="inbox", warehouse="wh.duckdb", parquet="export")
    parameters = json.loads(json.dumps(nightly_parameters(settings)))
    stored = parameters["settings"]
    assert stored["inbox"] == str(tmp_path / "inbox") and stored["work_folder"] is None
    assert all(
        Path(stored[name]).is_absolute()
        for name in ("warehouse", "inbox", "reports", "synonyms", "parquet", "rules")
    )
    assert audit_run.validate_parameters(parameters)["settings"] == settings.absolute()
