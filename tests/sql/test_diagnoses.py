"""Diagnoses load long: one row per (episode, position, ICD-10 code), as HES's 4-character
fields hold codes, with the HES quirks; a malformed code quarantines its row, naming its
column."""

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liver_audit.warehouse import connect
from tests.examples import examples
from tests.tables import episode_extract, load, parse_table

# What a delivered diagnosis becomes: code, 5th/6th characters, mark; or the reason its row
# is quarantined. `.` an empty cell.
DIAGNOSES = parse_table("""
| case                                      | delivered | code | detail | mark     | reason                   |
| as HES stores it                          | C787      | C787 | .      | .        | .                        |
| dotted, as coders write it                | C78.7     | C787 | .      | .        | .                        |
| lower case and padded                     | ˽k76.8˽   | K768 | .      | .        | .                        |
| 3 characters, padded with X as HES does   | C20       | C20X | .      | .        | .                        |
| already padded                            | C20X      | C20X | .      | .        | .                        |
| a 5th character (DIAG_nn)                 | I70.00    | I700 | 0      | .        | .                        |
| HES sentinel: null primary diagnosis      | R69X6     | R69X | 6      | .        | .                        |
| HES sentinel: invalid code submitted      | R69X8     | R69X | 8      | .        | .                        |
| dagger mark                               | A17.0†    | A170 | .      | dagger   | .                        |
| asterisk mark                             | G01*      | G01X | .      | asterisk | .                        |
| no diagnosis                              | -         | .    | .      | .        | .                        |
| not known                                 | &         | .    | .      | .        | .                        |
| junk seen in the artificial HES sample    | 0000      | .    | .      | .        | diagnosis_code_malformed |
| too short                                 | C7        | .    | .      | .        | diagnosis_code_malformed |
| too long past the 4th character           | C787123   | .    | .      | .        | diagnosis_code_malformed |
| a 5th character after a padded 3rd        | C20X1     | C20X | 1      | .        | .                        |
| a 5th character on a 3-character code     | C201      | C201 | .      | .        | .                        |
""")


@pytest.mark.parametrize("case", DIAGNOSES, ids=[case["case"] for case in DIAGNOSES])
def test_a_diagnosis_loads_as_hes_holds_it_or_quarantines_its_row(fresh_db, tmp_path, case):
    row = {
        "EPIKEY": "000000000001",
        "codes": "J02.3 Y75.2",
        "diagnoses": f"C78.7 {case['delivered']}",
    }
    result = load(fresh_db, episode_extract(tmp_path / "extract.txt", [row]))
    if case["reason"]:
        assert (result.rows_loaded, result.rows_quarantined) == (0, 1)
        assert fresh_db.sql("select reason, field from quarantine").fetchall() == [
            (case["reason"], "DIAG_4_02")
        ]
        return
    assert result.rows_loaded == 1
    expected = [(1, "C787", None, None)]
    if case["code"]:
        expected.append((2, case["code"], case["detail"] or None, case["mark"] or None))
    assert (
        fresh_db.sql(
            "select position, diagnosis_code, diagnosis_detail, mark from diagnoses order by 1"
        ).fetchall()
        == expected
    )


def test_full_codes_load_where_a_file_has_no_4_character_fields(fresh_db, tmp_path):
    rows = [
        {"EPIKEY": "1", "codes": "J02.3 Y75.2", "diagnoses": "C787 C189 R69X8"},
        {"EPIKEY": "2", "codes": "J02.3 Y75.2", "diagnoses": "C787 _ C7"},
    ]
    path = episode_extract(tmp_path / "extract.txt", rows, diagnosis_columns="DIAG_")
    result = load(fresh_db, path)
    assert (result.rows_loaded, result.rows_quarantined) == (1, 1)
    assert fresh_db.sql("select source_row, field from quarantine").fetchall() == [(2, "DIAG_03")]
    assert fresh_db.sql(
        "select position, diagnosis_code, diagnosis_detail from diagnoses order by 1"
    ).fetchall() == [(1, "C787", None), (2, "C189", None), (3, "R69X", "8")]


def test_positions_past_20_load(fresh_db, tmp_path):
    diagnoses = " ".join(["_"] * 20 + ["C78.7", "_", "C18.9"])
    row = {"EPIKEY": "1", "codes": "J02.3 Y75.2", "diagnoses": diagnoses}
    load(fresh_db, episode_extract(tmp_path / "extract.txt", [row]))
    assert fresh_db.sql("select position, diagnosis_code from diagnoses order by 1").fetchall() == [
        (21, "C787"), (23, "C189")
    ]  # fmt: skip


def test_a_redelivery_changing_only_a_diagnosis_replaces_the_episode(fresh_db, tmp_path):
    before = {"EPIKEY": "1", "codes": "J02.3 Y75.2", "diagnoses": "C78.7 C18.9"}
    after = {"EPIKEY": "1", "codes": "J02.3 Y75.2", "diagnoses": "C78.7 C20"}
    load(fresh_db, episode_extract(tmp_path / "april.txt", [before]))
    assert (
        load(fresh_db, episode_extract(tmp_path / "april-again.txt", [before])).rows_unchanged == 1
    )
    assert load(fresh_db, episode_extract(tmp_path / "may.txt", [after])).rows_unchanged == 0
    assert fresh_db.sql("select position, diagnosis_code from diagnoses order by 1").fetchall() == [
        (1, "C787"), (2, "C20X")
    ]  # fmt: skip


def test_the_audit_view_gives_titles_and_what_a_hes_sentinel_means(fresh_db, tmp_path):
    row = {"EPIKEY": "1", "codes": "J02.3 Y75.2", "diagnoses": "R69X6 C78.7 C20 R96X Q99.9"}
    path = episode_extract(tmp_path / "extract.txt", [row], diagnosis_columns="DIAG_")
    load(fresh_db, path)
    assert fresh_db.sql(
        "select position, diagnosis_code_dotted, diagnosis_title, hes_sentinel "
        "from audit.diagnoses order by 1"
    ).fetchall() == [
        (1, "R69", "Unknown and unspecified causes of morbidity", "null primary diagnosis (HES)"),
        (2, "C78.7", "Secondary malignant neoplasm of liver", None),
        (3, "C20", "Malignant neoplasm of rectum", None),
        (4, "R96", None, "not known (HES)"),
        (5, "Q99.9", "Chromosomal abnormality, unspecified", None),
    ]


# --- any text at all in a diagnosis field ----------------------------------------------------

SHAPE = re.compile(r"[A-Z][0-9]{2}[0-9X]")


def expected(text: str) -> tuple | str | None:
    """What loading makes of a diagnosis field's text, worked out here on its own: None (no
    diagnosis), "quarantined", or (code, detail, mark)."""
    trimmed = text.strip(" ")
    if trimmed in ("", "NA", "NULL", "na", "null", "-", "&"):
        return None
    mark = "dagger" if "†" in trimmed else "asterisk" if "*" in trimmed else None
    code = re.sub(r"[.\s†*]", "", trimmed.upper().replace("\t", ""))
    if code in ("-", "&"):  # a sentinel once its dots and marks go ('.-'), as for procedures
        return None
    code4, detail = (code + "X", "") if len(code) == 3 else (code[:4], code[4:])
    if not SHAPE.fullmatch(code4) or not re.fullmatch(r"[0-9A-Z]{0,2}", detail):
        return "quarantined"
    return (code4, detail or None, mark)


DIAGNOSIS_TEXT = st.one_of(
    st.sampled_from(["-", "&", "NA", " ", "R69X6", "C20", "C78.7†", "G01*", "0000", "c787"]),
    st.text(alphabet="ACGKRXZ0123456789. *†-&", max_size=8),
    st.from_regex(r"[A-Z][0-9]{2}(\.?[0-9X])?[0-9A-Z]{0,3}[†*]?", fullmatch=True),
)


@settings(
    max_examples=examples(60),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(texts=st.lists(DIAGNOSIS_TEXT, min_size=1, max_size=10))
def test_any_diagnosis_text_loads_as_worked_out_or_quarantines_its_row(tmp_path, texts):
    # one row per text, at position 2; tabs and pipes cannot be in a pipe-delimited field
    texts = [text for text in texts if "|" not in text and "\n" not in text and "\r" not in text]
    if not texts:
        return
    con = connect(":memory:")
    try:
        rows = [
            {
                "EPIKEY": str(n),
                "codes": "J02.3 Y75.2",
                "diagnoses": "C787 " + (t.replace(" ", "˽") or "_"),
            }
            for n, t in enumerate(texts, 1)
        ]
        result = load(con, episode_extract(tmp_path / "extract.txt", rows))
        assert result.rows_read == result.rows_loaded + result.rows_quarantined == len(texts)
        quarantined = {row for (row,) in con.sql("select source_row from quarantine").fetchall()}
        loaded = dict(
            ((int(e), (c, d, m)) for e, c, d, m in con.sql(
                "select episode_id, diagnosis_code, diagnosis_detail, mark from diagnoses "
                "where position = 2"
            ).fetchall())
        )  # fmt: skip
        for n, text in enumerate(texts, 1):
            want = expected(text)
            if want == "quarantined":
                assert n in quarantined, text
            else:
                assert n not in quarantined and loaded.get(n) == want, text
    finally:
        con.close()
