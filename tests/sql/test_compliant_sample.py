"""The compliant sample put to the auditors (issue 14, part 3): the setting's share of the
compliant findings, drawn by each finding's key and the seed: the same seed draws the same
findings, run after run; a reviewed finding leaves it; a finding needing action is never in
it."""

import pytest

from liver_audit.config import default_settings
from liver_audit.report import select_position

FINDINGS = 4000


@pytest.fixture
def findings(fresh_db):
    """FINDINGS compliant findings, one per episode, and one needing action."""
    con = fresh_db
    con.execute("insert into input_files (file_id, run_id, file_kind, file_name) "
                "values (1, 'r0', 'episode_extract', 'f')")  # fmt: skip
    con.execute(
        "insert into episodes (episode_id, file_id, version_hash) "
        "select i::varchar, 1, hash(i) from range(?) t(i)",
        [FINDINGS + 1],
    )
    con.execute(
        "insert into assessments (run_id, rule_id, episode_id, position, procedure_code, "
        "outcome, severity, needs_action) select 'r1', 'liver_resection_approach', "
        "i::varchar, 1, 'J023', if(i = ?, 'missing_approach_code', 'compliant'), "
        "if(i = ?, 'error', 'pass'), i = ? from range(?) t(i)",
        [FINDINGS, FINDINGS, FINDINGS, FINDINGS + 1],
    )
    return con


def sample(con, percent: float, seed: int = 0) -> set[str]:
    select_position(con, default_settings(compliant_sample=percent, sample_seed=seed))
    return {r[0] for r in con.sql("select finding_key from position where in_compliant_sample").fetchall()}  # fmt: skip


def test_the_share_drawn_is_the_setting(findings):
    assert sample(findings, 0) == set()
    assert len(sample(findings, 100)) == FINDINGS  # every compliant one, not the error
    assert 150 <= len(sample(findings, 5)) <= 250  # 5% of 4000: 200, give or take
    assert sample(findings, 1) <= sample(findings, 5)  # a wider sample keeps the narrower's


def test_the_same_seed_draws_the_same_findings(findings):
    first = sample(findings, 5, seed=7)
    assert sample(findings, 5, seed=7) == first
    assert sample(findings, 5, seed=8) != first


def test_a_reviewed_finding_leaves_the_sample(findings):
    drawn = sorted(sample(findings, 5))
    findings.execute(
        "insert into verdicts (finding_key, rule_id, verdict, worklist_sha256, read_at) "
        "values (?, 'liver_resection_approach', 'compliant confirmed', 'w', now())",
        [drawn[0]],
    )
    assert sample(findings, 5) == set(drawn[1:])
