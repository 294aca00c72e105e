"""Running the rule catalogue over the episodes to assess: each rule's findings, in one shape."""

import duckdb
import pandera.errors as pa_errors
import polars as pl

from liver_audit.errors import StageFailed
from liver_audit.warehouse import sql
from schemas import Finding


def assess(con: duckdb.DuckDBPyConnection, run_id: str) -> int:
    """Assess the episodes of every loaded file not yet assessed (this run's, and any an
    interrupted run loaded but never assessed), or of every file when the catalogue has
    changed since the last assessment, by every rule of the catalogue the warehouse holds
    (load_reference_tables). Returns the findings."""
    (catalogue_version, version_date, synonyms_version, scope) = con.execute(
        "select catalogue_version, opcs_version_date, synonyms_version, code_check_scope "
        "from assessment_settings"
    ).fetchall()[0]
    assessed_with = f"{catalogue_version} {version_date} {synonyms_version} {scope}"
    last = con.execute("select value from warehouse_info where key = 'assessed_with'").fetchall()
    # Rule queries read these (rules/README.md); temp tables live as long as the session.
    con.execute(
        f"create or replace temp table files_to_assess as {sql('files_to_assess')}",
        {"assess_all": last != [(assessed_with,)]},
    )
    con.execute(f"create or replace temp table episodes_to_assess as {sql('episodes_to_assess')}")
    con.execute(f"create or replace temp view episodes_in_scope as {sql('episodes_in_scope')}")
    con.execute(
        f"create or replace temp table procedures_in_scope as {sql('procedures_in_scope')}",
        {"version_date": version_date},
    )
    con.execute(
        f"create or replace temp table procedures_to_assess as {sql('procedures_to_assess')}"
    )
    con.execute(f"create or replace temp view diagnoses_in_scope as {sql('diagnoses_in_scope')}")
    rules = con.execute("select rule_id, query from rule_catalogue order by rule_id").fetchall()
    judgements_query = sql("recorded_judgements")
    found = 0
    # Entered in assessed_files with the findings, in one transaction, so a run killed
    # before it assessed leaves its files to the next.
    con.begin()
    try:
        for rule_id, query in rules:
            text = judgements_query.replace("{rule_query}", query.strip().removesuffix(";"))
            findings = rule_findings(con, rule_id, text)
            con.register("findings", findings)
            con.execute(
                "insert into assessments by name select ? as run_id, * from findings", [run_id]
            )
            con.unregister("findings")
            found += findings.height
        con.execute("insert into assessed_files select file_id, ? from files_to_assess", [run_id])
        con.execute(f"insert into code_checks {sql('code_checks')}", {"run_id": run_id})
        con.execute(
            "insert or replace into warehouse_info values ('assessed_with', ?)", [assessed_with]
        )
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return found


def rule_findings(con: duckdb.DuckDBPyConnection, rule_id: str, text: str):
    """The rule's findings, checked against the findings contract. A rule whose query does
    not run or whose findings break the contract is a bug in the rule: named in one line, by
    rule, column and reason, with DuckDB's words only where they cannot hold row values."""
    try:
        con.execute(
            f"create or replace temp table recorded_judgements as {text}", {"rule_id": rule_id}
        )
        findings = con.sql(sql("findings"), params={"rule_id": rule_id}).pl()
    except (duckdb.BinderException, duckdb.ParserException, duckdb.CatalogException) as error:
        first_line = str(error).splitlines()[0]
        raise StageFailed(f"rule {rule_id}: its query does not run: {first_line}") from None
    except duckdb.Error as error:
        raise StageFailed(f"rule {rule_id}: its query failed: {type(error).__name__}") from None
    check_outcomes_declared(con, rule_id, findings, text)
    try:
        Finding.validate(findings)
    except pa_errors.SchemaError as error:
        reason = error.reason_code.value if error.reason_code else "check failed"
        what = (
            "two findings share an episode and position"
            if reason == "duplicates"
            else f"column {getattr(error.schema, 'name', None)}: {reason}"
        )
        raise StageFailed(
            f"rule {rule_id}: its findings do not fit schemas/assessments.py Finding: {what}"
        ) from None
    return findings


def check_outcomes_declared(
    con: duckdb.DuckDBPyConnection, rule_id: str, findings: pl.DataFrame, query: str
) -> None:
    """Every outcome a rule's query gives is one its rule.toml declares (a rule's bug). The
    outcomes are named only when the query writes them as literals: the rule's words. One it
    does not write came from the data, and is counted, not shown."""
    declared = [
        outcome
        for (outcome,) in con.execute(
            "select outcome from rule_outcomes where rule_id = ?", [rule_id]
        ).fetchall()
    ]
    undeclared = sorted(
        findings.filter(~pl.col("outcome").is_in(declared))["outcome"].unique().to_list(),
        key=str,
    )
    if undeclared:
        written = [o for o in undeclared if o is not None and f"'{o}'" in query]
        withheld = len(undeclared) - len(written)
        names = ", ".join(written + ([f"{withheld} not written in its query"] if withheld else []))
        raise StageFailed(
            f"rule {rule_id}: its query gave outcome(s) not in its rule.toml: {names}"
        )
