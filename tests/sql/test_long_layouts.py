"""Long layouts (UK Biobank, CPRD): a delivery is an episodes file, a procedures file and a
diagnoses file, loaded together. Each file reconciles on its own; an episode loads whole,
with every code the other files give it, or not at all: a row kept out by another file's is
quarantined saying which file and row. Small files as tables beside what each row becomes."""

import gzip
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liver_audit.errors import StageFailed, UnusableInput
from liver_audit.inbox import plan_deliveries
from liver_audit.layouts import shipped_layouts
from liver_audit.load import LongFile, load_long
from liver_audit.warehouse import connect
from tests.examples import examples
from tests.tables import parse_table

UKB = shipped_layouts()["uk_biobank"]
# UK Biobank's layout without its diagnoses table: a delivery of two files
NO_DIAGNOSES = replace(UKB, tables={t: c for t, c in UKB.tables.items() if t != "diagnoses"})
CPRD = shipped_layouts()["cprd_hes_apc"]
HESIN = ["eid", "ins_index", "dsource", "epistart", "epiend", "admidate"]
OPER = ["eid", "ins_index", "arr_index", "level", "opdate", "oper3", "oper4"]
DIAG = ["eid", "ins_index", "arr_index", "level", "diag_icd9", "diag_icd10"]


def tab_file(path: Path, header: list[str], rows: list[list[str]], compress=False) -> Path:
    text = "\n".join("\t".join(cells) for cells in [header, *rows]) + "\n"
    if compress:
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


def hesin(eid, ins, start="01/05/2025", end="04/05/2025", admitted=None, source="HES"):
    return [eid, ins, source, start, end, admitted or start]


def oper(eid, ins, index, code, date="01/05/2025"):
    return [eid, ins, str(index), "1" if str(index) == "0" else "2", date, "NA", code]


def diag(eid, ins, index, code):
    return [eid, ins, str(index), "1" if str(index) == "0" else "2", "", code]


def ukb(con, folder: Path, episodes, procedures, diagnoses=None, ids=(1, 2, 3)):
    """Load a UK Biobank delivery written from the rows; its results by file kind."""
    files = [
        LongFile(tab_file(folder / "hesin.txt", HESIN, episodes), "episode_extract", ids[0]),
        LongFile(tab_file(folder / "hesin_oper.txt", OPER, procedures), "episode_procedures",
                 ids[1]),
    ]  # fmt: skip
    if diagnoses is not None:
        files.append(
            LongFile(
                tab_file(folder / "hesin_diag.txt", DIAG, diagnoses), "episode_diagnoses", ids[2]
            )  # fmt: skip
        )
    layout = UKB if diagnoses is not None else NO_DIAGNOSES
    return {result.file_kind: result for result in load_long(con, files, layout, "run-1")}


def counts(result):
    return result.rows_read, result.rows_loaded, result.rows_quarantined


def quarantined(con):
    return con.sql(
        "select source_file, source_row, reason, field, value from quarantine order by all"
    ).fetchall()


def test_a_delivery_loads_straight_into_the_long_tables(fresh_db, tmp_path):
    results = ukb(
        fresh_db,
        tmp_path,
        [hesin("1", "0"), hesin("2", "3", source="SMR")],
        [oper("1", "0", 0, "J023"), oper("1", "0", 1, "Y752"), oper("2", "3", 0, "J024")],
        [diag("1", "0", 0, "C220"), diag("2", "3", 0, "C787")],
    )
    assert [counts(results[k]) for k in ("episode_extract", "episode_procedures",
                                         "episode_diagnoses")] == [(2, 2, 0), (3, 3, 0), (2, 2, 0)]  # fmt: skip
    assert fresh_db.sql(
        "select episode_id, position, procedure_code, procedure_date, file_id from procedures "
        "order by all"
    ).fetchall() == [
        ("1:0", 1, "J023", __import__("datetime").date(2025, 5, 1), 2),
        ("1:0", 2, "Y752", __import__("datetime").date(2025, 5, 1), 2),
        ("2:3", 1, "J024", __import__("datetime").date(2025, 5, 1), 2),
    ]
    assert fresh_db.sql(
        "select episode_id, provider_code, primary_diagnosis_code, file_id from episodes "
        "order by all"
    ).fetchall() == [("1:0", "HES", "C220", 1), ("2:3", "SMR", "C787", 1)]
    assert fresh_db.sql("select count(*) from input_files").fetchall() == [(3,)]


# One episode (1:0: J02.3 Y75.2, diagnosis C22.0) beside one more row of hesin (e),
# hesin_oper (p) or hesin_diag (d): what becomes of each file's rows. Each quarantined row is
# "file row reason field [= value]"; a kept-out row's value names the other file's row (the
# first that failed, or the episode's).
KEPT_OUT_CASES = """
| case | extra | quarantined |
| procedure of no episode | p 9 0 0 J023 | hesin_oper.txt 3 episode_not_in_delivery eid + ins_index |
| diagnosis of no episode | d 9 0 1 C220 | hesin_diag.txt 2 episode_not_in_delivery eid + ins_index |
| procedure without OPCS-4 code | p 1 0 2 NA | hesin.txt 1 procedure_row_quarantined hesin_oper.txt = row 3; hesin_diag.txt 1 episode_quarantined hesin.txt = row 1; hesin_oper.txt 1 episode_quarantined hesin.txt = row 1; hesin_oper.txt 2 episode_quarantined hesin.txt = row 1; hesin_oper.txt 3 procedure_code_missing oper4 |
| a position given twice | p 1 0 1 J183 | hesin.txt 1 procedure_row_quarantined hesin_oper.txt = row 2; hesin_diag.txt 1 episode_quarantined hesin.txt = row 1; hesin_oper.txt 1 episode_quarantined hesin.txt = row 1; hesin_oper.txt 2 position_repeated arr_index = 1; hesin_oper.txt 3 position_repeated arr_index = 1 |
| a position that is no number | p 1 0 x J183 | hesin.txt 1 procedure_row_quarantined hesin_oper.txt = row 3; hesin_diag.txt 1 episode_quarantined hesin.txt = row 1; hesin_oper.txt 1 episode_quarantined hesin.txt = row 1; hesin_oper.txt 2 episode_quarantined hesin.txt = row 1; hesin_oper.txt 3 position_invalid arr_index = x |
| a position not whole | p 1 0 1.5 J183 | hesin.txt 1 procedure_row_quarantined hesin_oper.txt = row 3; hesin_diag.txt 1 episode_quarantined hesin.txt = row 1; hesin_oper.txt 1 episode_quarantined hesin.txt = row 1; hesin_oper.txt 2 episode_quarantined hesin.txt = row 1; hesin_oper.txt 3 position_invalid arr_index = 1.5 |
| a position past any integer | p 1 0 99999999999 J183 | hesin.txt 1 procedure_row_quarantined hesin_oper.txt = row 3; hesin_diag.txt 1 episode_quarantined hesin.txt = row 1; hesin_oper.txt 1 episode_quarantined hesin.txt = row 1; hesin_oper.txt 2 episode_quarantined hesin.txt = row 1; hesin_oper.txt 3 position_invalid arr_index = 99999999999 |
| a position before the first | p 1 0 -1 J183 | hesin.txt 1 procedure_row_quarantined hesin_oper.txt = row 3; hesin_diag.txt 1 episode_quarantined hesin.txt = row 1; hesin_oper.txt 1 episode_quarantined hesin.txt = row 1; hesin_oper.txt 2 episode_quarantined hesin.txt = row 1; hesin_oper.txt 3 position_invalid arr_index = -1 |
| diagnosis with ICD-9 only | d 1 0 1 . | hesin.txt 1 diagnosis_row_quarantined hesin_diag.txt = row 2; hesin_diag.txt 1 episode_quarantined hesin.txt = row 1; hesin_diag.txt 2 diagnosis_code_missing diag_icd10; hesin_oper.txt 1 episode_quarantined hesin.txt = row 1; hesin_oper.txt 2 episode_quarantined hesin.txt = row 1 |
| the episode given twice | e 1 0 | hesin.txt 1 episode_id_duplicated eid + ins_index = 2; hesin.txt 2 episode_id_duplicated eid + ins_index = 2; hesin_diag.txt 1 episode_quarantined hesin.txt = row 1; hesin_oper.txt 1 episode_quarantined hesin.txt = row 1; hesin_oper.txt 2 episode_quarantined hesin.txt = row 1 |
| an episode without its id | e 3 NA | hesin.txt 2 episode_id_missing eid + ins_index |
| a procedure without its id | p . 0 2 J183 | hesin_oper.txt 3 episode_id_missing eid + ins_index |
| an id part with the separator | e 4:5 0 | hesin.txt 2 episode_id_missing eid + ins_index |
"""


def extra_row(text: str) -> tuple[str, list[str]]:
    kind, *cells = text.split()
    cells = ["" if cell == "." else cell for cell in cells]
    return kind, {"e": hesin, "p": oper, "d": diag}[kind](*cells)


def parsed_quarantine(text: str) -> list[tuple]:
    rows = []
    for entry in text.split("; "):
        named, _, value = entry.partition(" = ")
        source, row, reason, field = named.split(" ", 3)
        rows.append((source, int(row), reason, field, value or None))
    return rows


@pytest.mark.parametrize(
    "case", parse_table(KEPT_OUT_CASES), ids=[c["case"] for c in parse_table(KEPT_OUT_CASES)]
)
def test_a_row_kept_out_and_what_goes_with_it(fresh_db, tmp_path, case):
    episodes = [hesin("1", "0")]
    procedures = [oper("1", "0", 0, "J023"), oper("1", "0", 1, "Y752")]
    diagnoses = [diag("1", "0", 0, "C220")]
    kind, row = extra_row(case["extra"])
    {"e": episodes, "p": procedures, "d": diagnoses}[kind].append(row)
    results = ukb(fresh_db, tmp_path, episodes, procedures, diagnoses)
    for result in results.values():
        assert result.rows_read == result.rows_loaded + result.rows_quarantined
    assert quarantined(fresh_db) == parsed_quarantine(case["quarantined"])
    kept_out = any(e.startswith("hesin.txt 1 ") for e in case["quarantined"].split("; "))
    loaded = fresh_db.sql("select episode_id from episodes").fetchall()
    assert (("1:0",) in loaded) != kept_out


def test_an_unchanged_episode_stays_and_a_changed_code_replaces_it(fresh_db, tmp_path):
    episodes = [hesin("1", "0"), hesin("2", "0")]
    procedures = [oper("1", "0", 0, "J023"), oper("2", "0", 0, "J024")]
    ukb(fresh_db, tmp_path, episodes, procedures)
    procedures[1] = oper("2", "0", 0, "J021")  # 2:0's code changed, 1:0 as it was
    results = ukb(fresh_db, tmp_path, episodes, procedures, ids=(4, 5, 6))
    assert results["episode_extract"].rows_unchanged == 1
    assert results["episode_procedures"].rows_unchanged == 1
    assert fresh_db.sql(
        "select episode_id, procedure_code, file_id from procedures order by all"
    ).fetchall() == [("1:0", "J023", 2), ("2:0", "J021", 5)]


def test_cprd_names_no_provider_and_joins_icd_and_icdx(fresh_db, tmp_path):
    episodes = tab_file(
        tmp_path / "hes_episodes_1.txt",
        ["patid", "spno", "epikey", "admidate", "epistart", "epiend", "discharged", "eorder"],
        [["1001", "1", "55", "01/05/2025", "01/05/2025", "04/05/2025", "04/05/2025", "1"]],
    )
    procedures = tab_file(
        tmp_path / "hes_procedures_epi_1.txt",
        ["patid", "spno", "epikey", "admidate", "epistart", "epiend", "discharged", "OPCS",
         "evdate", "p_order"],
        [["1001", "1", "55", "01/05/2025", "01/05/2025", "04/05/2025", "04/05/2025", "J023",
          "01/05/2025", "1"]],
    )  # fmt: skip
    diagnoses = tab_file(
        tmp_path / "hes_diagnosis_epi_1.txt",
        ["patid", "spno", "epikey", "epistart", "epiend", "ICD", "ICDx", "d_order"],
        [["1001", "1", "55", "01/05/2025", "04/05/2025", "C22.0", "", "1"],
         ["1001", "1", "55", "01/05/2025", "04/05/2025", "R69", "X6", "2"]],
    )  # fmt: skip
    files = [
        LongFile(episodes, "episode_extract", 1),
        LongFile(procedures, "episode_procedures", 2),
        LongFile(diagnoses, "episode_diagnoses", 3),
    ]
    load_long(fresh_db, files, CPRD, "run-1")
    assert fresh_db.sql("select episode_id, provider_code from episodes").fetchall() == [
        ("1001:55", "CPRD")
    ]
    assert fresh_db.sql(
        "select position, diagnosis_code, diagnosis_detail from diagnoses order by all"
    ).fetchall() == [(1, "C220", None), (2, "R69X", "6")]


def test_a_line_of_a_code_file_that_does_not_split_refuses_the_delivery(fresh_db, tmp_path):
    episodes, procedures, diagnoses = delivery_files(tmp_path)
    with open(procedures, "a") as file:
        file.write("1\t0\t1\t2\t01/05/2025\tNA\tY752\textra\n")
    files = [LongFile(episodes, "episode_extract", 1), LongFile(procedures, "episode_procedures", 2),
             LongFile(diagnoses, "episode_diagnoses", 3)]  # fmt: skip
    with pytest.raises(UnusableInput, match=r"hesin_oper.txt: row 2: does not split into the "):
        load_long(fresh_db, files, UKB, "run-1")
    assert fresh_db.sql("select count(*) from episodes").fetchall() == [(0,)]


def test_a_gzip_file_cut_short_is_refused(fresh_db, tmp_path):
    rows = [oper(str(n), "0", 0, "J023") for n in range(20000)]
    procedures = tab_file(tmp_path / "hesin_oper.txt.gz", OPER, rows, compress=True)
    procedures.write_bytes(procedures.read_bytes()[:-2000])
    episodes = tab_file(tmp_path / "hesin.txt", HESIN, [hesin(str(n), "0") for n in range(20000)])
    files = [
        LongFile(episodes, "episode_extract", 1),
        LongFile(procedures, "episode_procedures", 2),
    ]
    with pytest.raises(UnusableInput, match=r"hesin_oper.txt.gz: not a whole gzip file"):
        load_long(fresh_db, files, NO_DIAGNOSES, "run-1")


def test_a_gzip_delivery_is_read_in_place_and_kept_as_delivered(tmp_path):
    con = connect(str(tmp_path / "warehouse.duckdb"))
    files = [
        LongFile(tab_file(tmp_path / "hesin.txt.gz", HESIN, [hesin("1", "0")], True),
                 "episode_extract", 1),
        LongFile(tab_file(tmp_path / "oper", OPER, [oper("1", "0", 0, "J023")], True),
                 "episode_procedures", 2),
    ]  # fmt: skip
    load_long(con, files, NO_DIAGNOSES, "run-1")
    kept = sorted(tmp_path.glob("warehouse.duckdb.delivered/*"))
    assert [path.read_bytes() for path in kept] == [f.path.read_bytes() for f in files]
    assert con.sql("select count(*) from raw_episode_procedures_2").fetchall() == [(1,)]
    con.close()


def delivery_files(folder: Path, diagnoses=True) -> list[Path]:
    files = [
        tab_file(folder / "hesin.txt", HESIN, [hesin("1", "0")]),
        tab_file(folder / "hesin_oper.txt", OPER, [oper("1", "0", 0, "J023")]),
    ]
    if diagnoses:
        files.append(tab_file(folder / "hesin_diag.txt", DIAG, [diag("1", "0", 0, "C220")]))
    return files


def test_a_long_delivery_is_planned_as_one(fresh_db, tmp_path):
    episodes, procedures, diagnoses = delivery_files(tmp_path)
    plan = plan_deliveries(fresh_db, [procedures, diagnoses, episodes])
    assert sorted((d.kind, d.action, d.loaded_with) for d in plan) == [
        ("episode_diagnoses", "load", str(episodes)),
        ("episode_extract", "load", None),
        ("episode_procedures", "load", str(episodes)),
    ]
    (lead,) = [d for d in plan if d.kind == "episode_extract"]
    assert [d.kind for d in lead.files] == [
        "episode_extract", "episode_procedures", "episode_diagnoses"
    ]  # fmt: skip


@pytest.mark.parametrize(
    "names, said",
    [
        (["hesin_oper.txt"], "this run has 0 episodes, 1 procedures, 0 diagnoses"),
        (["hesin.txt", "hesin_oper.txt"], "this run has 1 episodes, 1 procedures, 0 diagnoses"),
        (["hesin.txt", "hesin2.txt", "hesin_oper.txt", "hesin_diag.txt"],
         "this run has 2 episodes, 1 procedures, 1 diagnoses"),
    ],
)  # fmt: skip
def test_an_incomplete_long_delivery_is_refused_saying_what_it_lacks(
    fresh_db, tmp_path, names, said
):
    paths = []
    for n, name in enumerate(names):
        if "oper" in name:
            paths.append(tab_file(tmp_path / name, OPER, [oper("1", "0", 0, "J023")]))
        elif "diag" in name:
            paths.append(tab_file(tmp_path / name, DIAG, [diag("1", "0", 0, "C220")]))
        else:
            paths.append(tab_file(tmp_path / name, HESIN, [hesin("1", str(n))]))
    plan = plan_deliveries(fresh_db, paths)
    assert {d.action for d in plan} == {"refuse"}
    for delivery in plan:
        assert delivery.reason == (
            f"{delivery.path}: a uk_biobank delivery is one episodes, one procedures, one "
            f"diagnoses file, given together; {said}"
        )


def test_a_delivery_with_a_refused_file_is_refused_whole(fresh_db, tmp_path):
    episodes, procedures, diagnoses = delivery_files(tmp_path)
    diagnoses.write_text("\t".join(DIAG) + "\n")  # a header and no rows: refused
    plan = {
        Path(d.path).name: d for d in plan_deliveries(fresh_db, [episodes, procedures, diagnoses])
    }
    assert plan["hesin_diag.txt"].reason == f"{diagnoses}: no data rows"
    for name in ("hesin.txt", "hesin_oper.txt"):
        assert plan[name].action == "refuse"
        assert plan[name].reason.endswith(
            "not loaded: hesin_diag.txt, of the same uk_biobank delivery, was refused"
        )


def test_a_file_of_a_delivery_loaded_before_is_skipped_alone(fresh_db, tmp_path):
    episodes, procedures, diagnoses = delivery_files(tmp_path)
    plan = plan_deliveries(fresh_db, [episodes, procedures, diagnoses])
    (lead,) = [d for d in plan if d.kind == "episode_extract"]
    load_long(fresh_db, [LongFile(Path(d.path), d.kind, d.file_id, d.sha256) for d in lead.files],
              UKB, "run-1")  # fmt: skip
    (again,) = plan_deliveries(fresh_db, [procedures])
    assert (again.action, again.reason) == (
        "skip",
        "content already loaded, as hesin_oper.txt by run run-1",
    )


def test_a_delivery_without_its_diagnoses_file_is_refused_when_loaded(fresh_db, tmp_path):
    episodes, procedures = delivery_files(tmp_path, diagnoses=False)
    files = [
        LongFile(episodes, "episode_extract", 1),
        LongFile(procedures, "episode_procedures", 2),
    ]
    with pytest.raises(UnusableInput, match="hesin.txt: a uk_biobank delivery is its files"):
        load_long(fresh_db, files, UKB, "run-1")


def test_a_file_replaced_by_another_kind_since_planned_fails_for_the_next_run(fresh_db, tmp_path):
    episodes, procedures, diagnoses = delivery_files(tmp_path)
    files = [LongFile(episodes, "episode_extract", 1), LongFile(diagnoses, "episode_procedures", 2),
             LongFile(procedures, "episode_diagnoses", 3)]  # fmt: skip
    with pytest.raises(StageFailed, match="hesin_diag.txt: changed since planned"):
        load_long(fresh_db, files, UKB, "run-1")
    assert fresh_db.sql("select count(*) from input_files").fetchall() == [(0,)]


CELL = st.sampled_from(["", "NA", "0", "1", "2", "x", "-1", "1:2", "01/05/2025", "J023",
                        "Y752", "C220", "99"])  # fmt: skip


@settings(max_examples=examples(30), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(
    episodes=st.lists(st.tuples(CELL, CELL), min_size=1, max_size=5),
    procedures=st.lists(st.tuples(CELL, CELL, CELL, CELL), min_size=1, max_size=8),
    diagnoses=st.lists(st.tuples(CELL, CELL, CELL, CELL), max_size=5),
)
def test_any_long_delivery_loads_episodes_whole_or_not_at_all(
    tmp_path_factory, episodes, procedures, diagnoses
):
    """Whatever the rows: every file reconciles, and every episode loaded has exactly the
    procedure and diagnosis rows the files give it (none lost, none of another episode)."""
    folder = tmp_path_factory.mktemp("long")
    con = connect(":memory:")
    try:
        results = ukb(
            con,
            folder,
            [hesin(eid, ins) for eid, ins in episodes],
            [oper(eid, ins, index, code) for eid, ins, index, code in procedures],
            # no diagnoses: no diagnoses file (one with a header alone is refused)
            [diag(eid, ins, index, code) for eid, ins, index, code in diagnoses] or None,
        )
        for result in results.values():
            assert result.rows_read == result.rows_loaded + result.rows_quarantined
        loaded = {e for (e,) in con.sql("select episode_id from episodes").fetchall()}
        for table, rows in (("procedures", procedures), ("diagnoses", diagnoses)):
            held = sorted(con.sql(f"select episode_id, position from {table}").fetchall())
            delivered = sorted(
                (f"{eid}:{ins}", int(index) + 1)
                for eid, ins, index, code in rows
                if f"{eid}:{ins}" in loaded and code not in ("", "NA")
            )
            assert held == delivered
        loaded_rows = sum(r.rows_loaded for r in results.values())
        assert loaded_rows >= len(loaded)
    finally:
        con.close()
