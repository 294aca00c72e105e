"""A warehouse written by the release before rule folders (schema version 2, kept as
tests/fixtures/warehouse-schema-2.duckdb.gz, see its README) opens after the change with its
history intact: migrated in place, in one transaction; read-only commands say which command
migrates it; the next assessment judges every episode held with the current catalogue."""

import gzip
import shutil

import duckdb
import pytest

from liver_audit.assess import assess
from liver_audit.errors import WarehouseOutdated
from liver_audit.warehouse import connect, open_read_only
from liver_audit.warehouse import schema as warehouse_schema
from tests.conftest import REPO

FIXTURE = REPO / "tests" / "fixtures" / "warehouse-schema-2.duckdb.gz"
OLD_RULE = "liver_resection_has_expected_approach_code"


@pytest.fixture
def old_warehouse(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    with gzip.open(FIXTURE) as packed, path.open("wb") as file:
        shutil.copyfileobj(packed, file)
    return path


def rows(path, query):
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(query).fetchall()


def test_the_old_warehouse_is_what_the_fixture_says(old_warehouse):
    assert rows(old_warehouse, "select value from warehouse_info") == [("2",)]
    assert rows(old_warehouse, "select count(*), min(rule_id) from assessments") == [(12, OLD_RULE)]


def test_read_only_commands_name_the_command_that_migrates(old_warehouse):
    with pytest.raises(WarehouseOutdated, match="the next `liver-audit run` on it migrates it"):
        with open_read_only(old_warehouse):
            pass


def test_a_run_migrates_it_in_place_keeping_its_history(old_warehouse):
    before = rows(old_warehouse, "select run_id, status, rows_read, procedures_assessed from runs")
    old = rows(
        old_warehouse,
        "select run_id, episode_id, position, procedure_code, outcome, severity, provider_code "
        "from assessments order by all",
    )
    con = connect(old_warehouse)
    con.close()
    assert rows(old_warehouse, "select value from warehouse_info where key = 'schema_version'") == [
        ("5",)
    ]
    assert (
        rows(old_warehouse, "select run_id, status, rows_read, procedures_assessed from runs")
        == before
    )
    # every assessment is now a finding of the rule that made it, in the one shape
    assert (
        rows(
            old_warehouse,
            "select run_id, episode_id, position, procedure_code, outcome, severity, provider_code "
            "from assessments order by all",
        )
        == old
    )
    migrated = rows(
        old_warehouse,
        "select distinct rule_id, catalogue_version is not null, starts_with(message, "
        "'assessed before schema version 3') from assessments",
    )
    assert migrated == [(OLD_RULE, True, True)]
    assert rows(old_warehouse, "select distinct rule_id from run_outcomes") == [(OLD_RULE,)]
    assert rows(old_warehouse, "select sum(findings) from run_outcomes") == [(12,)]
    # the old rule is history: the warehouse's current findings are the current rules' only
    assert rows(old_warehouse, "select count(*) from audit.assessments") == [(0,)]
    with open_read_only(old_warehouse) as read:
        assert read.execute("select count(*) from audit.rule_runs").fetchall() == [(1,)]


def test_the_next_assessment_judges_every_episode_held_with_the_current_rules(old_warehouse):
    con = connect(old_warehouse)
    try:
        found = assess(con, "after-upgrade")
        episodes = con.execute(
            "select count(distinct episode_id) from latest_assessments "
            "where rule_id = 'liver_resection_approach'"
        ).fetchall()
    finally:
        con.close()
    assert found > 0
    # the fixture's 12 episodes each have a J02.3/J02.4 (tests/fixtures/README.md)
    assert episodes == [(12,)]


def test_a_migration_that_fails_leaves_the_warehouse_as_it_was(old_warehouse, monkeypatch):
    real_sql = warehouse_schema.sql

    def failing(name):
        text = real_sql(name)
        # fail after the migration's first statements have run
        return (
            text + "\nselect error('killed part way');" if name.startswith("migrations/") else text
        )

    monkeypatch.setattr(warehouse_schema, "sql", failing)
    with pytest.raises(duckdb.Error):
        connect(old_warehouse)
    assert rows(old_warehouse, "select value from warehouse_info") == [("2",)]
    assert rows(old_warehouse, "select count(*) from assessments") == [(12,)]
    assert "qualifier_codes" in {
        name
        for (name,) in rows(
            old_warehouse,
            "select column_name from duckdb_columns() where table_name = 'assessments'",
        )
    }
