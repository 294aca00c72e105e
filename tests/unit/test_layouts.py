"""Layouts (liver_audit/layouts.py): how an episode extract names the warehouse's fields.
A layout's TOML is checked field by field, a problem said in one line; a file's columns are
found by the first way of naming the file uses; a file is read by the one layout it fits."""

import datetime
import re
import tomllib
from pathlib import Path

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liver_audit.errors import UnusableInput
from liver_audit.layouts import all_layouts, parse_layout, positions, recognise, shipped_layouts
from liver_audit.warehouse import sql
from tests.examples import examples

TRUST = {
    "title": "Our PAS extract",
    "source": "our PAS export specification",
    "dates": "DD/MM/YYYY",
    "episode_id": "Episode Number",
    "provider_code": "Provider Code",
    "episode_start_date": "Start Date (Episode)",
    "episode_end_date": "End Date (Episode)",
    "procedure_codes": [["Primary Procedure (OPCS)", "Procedure {n} (OPCS)"]],
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"episode_id": None}, "field episode_id: Field required"),
        ({"episodeid": "X"}, "field episodeid: Extra inputs are not permitted"),
        ({"dates": "MM/DD/YYYY"}, "field dates: Input should be 'YYYY-MM-DD' or 'DD/MM/YYYY'"),
        ({"sex": 1}, "field sex: Input should be a valid string"),
        ({"procedure_codes": []}, "field procedure_codes: List should have at least 1 item"),
        ({"procedure_codes": ["OPS_{x}"]}, "field procedure_codes: a placeholder other than"),
        ({"procedure_codes": ["OPS_{n}_{n}"]}, "field procedure_codes: a name with two placeholders"),
        ({"procedure_codes": [["Procedure {n}", "Main"]]}, "a plain column name after a pattern"),
        ({"procedure_codes": [[]]}, "field procedure_codes: an empty column name"),
        ({"procedure_codes": [["P1", "p1 "]]}, "field procedure_codes: a column named twice"),
        ({"sex": "provider code"}, "column PROVIDER CODE is named for two fields"),
    ],
)  # fmt: skip
def test_a_bad_layout_is_refused_in_one_line_naming_the_field(change, message):
    data = {k: v for k, v in (TRUST | change).items() if v is not None}
    with pytest.raises(UnusableInput) as refused:
        parse_layout("our_pas", data, "liver-audit.toml")
    assert str(refused.value).startswith("liver-audit.toml: layout our_pas: ")
    assert message in str(refused.value) and "\n" not in str(refused.value)


def test_a_trusts_layout_may_not_take_a_shipped_name_or_be_no_table():
    with pytest.raises(UnusableInput, match="a shipped layout has this name"):
        all_layouts({"hes_apc": TRUST}, "liver-audit.toml")
    with pytest.raises(UnusableInput, match=r"must be a table \(\[layouts.ours\]\)"):
        all_layouts({"ours": "EPIKEY"}, "liver-audit.toml")
    with pytest.raises(UnusableInput, match="lower case letters, digits and _"):
        all_layouts({"Our PAS": TRUST}, "liver-audit.toml")


@pytest.mark.parametrize(
    ("ways", "columns", "expected"),
    [
        # HES: OPERTN_4_nn when the file has any, else OPERTN_nn (never both)
        ([["OPERTN_4_{nn}"], ["OPERTN_{nn}"]], ["OPERTN_01", "OPERTN_4_01", "OPERTN_4_02"],
         {1: "OPERTN_4_01", 2: "OPERTN_4_02"}),
        ([["OPERTN_4_{nn}"], ["OPERTN_{nn}"]], ["OPERTN_01", "OPERTN_03"],
         {1: "OPERTN_01", 3: "OPERTN_03"}),
        # {nn} is two digits; position 0 is no position
        ([["OPERTN_4_{nn}"]], ["OPERTN_4_1", "OPERTN_4_00", "OPERTN_4_100"], {}),
        ([["P{n}"]], ["P1", "P12", "P01", "P0"], {1: "P1", 12: "P12"}),
        # SUS: a plain name is its place in the list; a pattern the number it carries
        ([["PRIMARY PROCEDURE (OPCS)", "PROCEDURE {n} (OPCS)"]],
         ["PROCEDURE 2 (OPCS)", "PRIMARY PROCEDURE (OPCS)", "PROCEDURE 12 (OPCS)"],
         {1: "PRIMARY PROCEDURE (OPCS)", 2: "PROCEDURE 2 (OPCS)", 12: "PROCEDURE 12 (OPCS)"}),
        # an explicit list keeps each name's place when one is missing from the file
        ([["PRIMARY DIAGNOSIS", "SECONDARY 1", "SECONDARY 2"]], ["PRIMARY DIAGNOSIS", "SECONDARY 2"],
         {1: "PRIMARY DIAGNOSIS", 3: "SECONDARY 2"}),
        # regular-expression characters in a name are only text
        ([["OP.{nn}"]], ["OPX01", "OP.02"], {2: "OP.02"}),
    ],
)  # fmt: skip
def test_numbered_columns_are_found_by_the_first_way_the_file_uses(ways, columns, expected):
    assert positions(tuple(map(tuple, ways)), columns) == expected


def test_a_file_is_read_by_the_one_layout_it_fits():
    layouts = all_layouts({"our_pas": TRUST}, "liver-audit.toml")
    trust = ["EPISODE NUMBER", "PROVIDER CODE", "START DATE (EPISODE)", "END DATE (EPISODE)",
             "PRIMARY PROCEDURE (OPCS)"]  # fmt: skip
    hes = ["EPIKEY", "PROCODE3", "ADMIDATE", "EPISTART", "EPIEND", "SEX", "STARTAGE", "OPERTN_01"]
    assert recognise(Path("x.csv"), trust, layouts, None).name == "our_pas"
    assert recognise(Path("x.csv"), hes, layouts, None).name == "hes_apc"
    with pytest.raises(UnusableInput, match=r"x.csv: row 0 \(header\): fits layouts hes_apc, "
                       r"our_pas: choose one \(--layout NAME\)"):  # fmt: skip
        recognise(Path("x.csv"), hes + trust, layouts, None)
    with pytest.raises(UnusableInput, match=r"missing column\(s\) PROVIDER CODE \(nearest "
                       r"layout: our_pas\)"):  # fmt: skip
        recognise(Path("x.csv"), [c for c in trust if c != "PROVIDER CODE"], layouts, None)
    with pytest.raises(UnusableInput, match=r"missing column\(s\) EPISODE NUMBER, PROVIDER CODE, "
                       r".*\(layout our_pas\)"):  # fmt: skip
        recognise(Path("x.csv"), hes, layouts, "our_pas")


@pytest.mark.parametrize(
    ("codes", "columns", "problem"),
    [
        (["P{n}", "P{nn}"], ["P1", "P01"], "columns P1 and P01 are both position 1"),
        (["PRIMARY", "P{n}"], ["PRIMARY", "P1"], "columns PRIMARY and P1 are both position 1"),
        (["P2", "P{n}"], ["P2"], "column P2 is both position 1 and 2"),
    ],
)
def test_a_file_whose_columns_give_a_position_twice_is_refused(codes, columns, problem):
    layouts = all_layouts({"ours": TRUST | {"procedure_codes": [codes]}}, "t.toml")
    fields = ["EPISODE NUMBER", "PROVIDER CODE", "START DATE (EPISODE)", "END DATE (EPISODE)"]
    with pytest.raises(UnusableInput) as refused:
        recognise(Path("x.csv"), fields + columns, layouts, "ours")
    assert str(refused.value) == (
        f"x.csv: row 0 (header): {problem} of procedure_codes (layout ours)"
    )


def test_every_shipped_layout_is_valid_and_names_its_source():
    layouts = shipped_layouts()
    assert "hes_apc" in layouts
    for layout in layouts.values():
        assert layout.title and layout.source


@settings(max_examples=examples(200), deadline=None)
@given(
    st.dictionaries(
        st.sampled_from([*TRUST, "sex", "start_age", "admission_date", "diagnosis_codes",
                         "procedure_dates", "other"]),
        st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=12),
                     lambda inner: st.lists(inner, max_size=3), max_leaves=6),
    ),
    st.booleans(),
)  # fmt: skip
def test_any_layout_table_gives_a_layout_or_one_line(change, based_on_trust):
    """Whatever a liver-audit.toml table holds: a layout, or one line naming the field."""
    data = {k: v for k, v in ((TRUST if based_on_trust else {}) | change).items() if v is not None}
    try:
        layout = parse_layout("ours", data, "liver-audit.toml")
    except UnusableInput as refused:
        assert str(refused).startswith("liver-audit.toml: layout ours: ")
        assert "\n" not in str(refused)
        return
    for column in layout.columns.values():  # compared as a file's columns are
        assert column == column.strip().upper()


@settings(max_examples=examples(200), deadline=None)
@given(st.lists(st.text(alphabet="PRO12 {n}_", max_size=10), max_size=6),
       st.lists(st.text(alphabet="PRO120 _", max_size=10), max_size=8))  # fmt: skip
def test_positions_are_the_files_columns_at_positions_from_1(names, columns):
    try:
        layout = parse_layout("ours", TRUST | {"procedure_codes": [names]}, "t.toml")
    except UnusableInput:
        return
    columns = [column.strip().upper() for column in columns]  # as a file's header is read
    found = layout.procedure_columns(columns)
    assert all(position >= 1 and column in columns for position, column in found.items())
    try:  # a file whose columns are ambiguous by the layout is refused, never read
        recognise(Path("x.csv"), [*layout.required_columns(), *columns], {"ours": layout}, None)
    except UnusableInput as refused:
        assert "\n" not in str(refused)
        return
    assert len(set(found.values())) == len(found)  # no column read at two positions
    numbered = [
        c
        for c in columns
        if any(
            re.fullmatch(
                "".join(
                    r"\d+" if part in ("n", "nn") and i % 2 else re.escape(part)
                    for i, part in enumerate(re.split(r"\{(nn|n)\}", name))
                ),
                c,
            )
            for name in layout.procedure_codes[0]  # the names as the layout holds them
        )
    ]
    assert set(found.values()) >= set(numbered)  # every column a name matches is read


@pytest.fixture(scope="module")
def macros():
    con = duckdb.connect()
    con.execute(sql("macros"))
    return con


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("06/04/2025", datetime.date(2025, 4, 6)),
        ("6/4/2025", datetime.date(2025, 4, 6)),
        (" 06/04/2025 ", datetime.date(2025, 4, 6)),
        ("31/06/2025", None),  # no such day
        ("04/13/2025", None),  # month 13: not MM/DD either
        ("2025-04-06", datetime.date(2025, 4, 6)),  # a Parquet date, read as text
        ("01/01/1800", None),  # HES's null date
        ("06.04.2025", None),
        ("06/04/25", None),
    ],
)
def test_dd_mm_yyyy_dates_read_as_the_day_they_name(macros, text, expected):
    assert macros.execute("select hes_date(dmy_as_iso(?))", [text]).fetchall()[0][0] == expected


@settings(max_examples=examples(300), deadline=None)
@given(st.integers(0, 40), st.integers(0, 14), st.integers(1700, 2200), st.booleans())
def test_any_dd_mm_yyyy_text_is_the_date_python_reads(macros, day, month, year, padded):
    text = f"{day:02d}/{month:02d}/{year}" if padded else f"{day}/{month}/{year}"
    try:
        expected = datetime.datetime.strptime(text, "%d/%m/%Y").date()
    except ValueError:
        expected = None
    plausible = macros.execute("select hes_date_first(), hes_date_last()").fetchall()[0]
    if expected is not None and not plausible[0] <= expected.isoformat() <= plausible[1]:
        expected = None  # outside the plausible dates: null, as for HES's
    assert macros.execute("select hes_date(dmy_as_iso(?))", [text]).fetchall()[0][0] == expected


def test_the_example_settings_file_defines_a_valid_layout():
    """liver-audit.example.toml's commented [layouts.NAME] example, uncommented, loads."""
    example = Path(__file__).parents[2] / "liver-audit.example.toml"
    lines = example.read_text().splitlines()
    start = next(n for n, line in enumerate(lines) if re.match(r"# \[layouts\.\w+\]", line))
    block = [line.removeprefix("# ") for line in lines[start:] if line.startswith("# ")]
    tables = tomllib.loads("\n".join(block))["layouts"]
    assert all_layouts(tables, str(example))
