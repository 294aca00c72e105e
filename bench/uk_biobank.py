"""Benchmark liver-audit on a UK Biobank-layout delivery (hesin, hesin_oper, hesin_diag)
against a DuckDB floor.

The delivery is made from generate_extract.py's synthetic HES APC extract (the national code
mix): each episode becomes a hesin row (eid: a participant of eight episodes, ins_index the
episode's index), each filled procedure position a hesin_oper row (arr_index = position - 1,
level 1 the main one, oper4 without a dot) and each diagnosis a hesin_diag row, written as
UK Biobank does: tab-separated, dates DD/MM/YYYY, NA for missing values, its columns. Then
the floor (the three files into DuckDB tables and a minimal liver check) and `liver-audit run`
on the three files, alternately, each from a fresh database; results in
bench/results/uk-biobank-<episodes>.json.

    .venv/bin/python bench/uk_biobank.py [--episodes 5000000] [--repeat 1] [--workdir DIR] [--keep]
    .venv/bin/python bench/uk_biobank.py floor HESIN OPER DIAG DATABASE   # the floor alone
"""

import argparse
import json
import shlex
import shutil
import sys
import tempfile
from pathlib import Path

import duckdb
from generate_extract import generate

from bench import (
    REPO_DIR,
    RESULTS_DIR,
    add_stages,
    machine,
    measure,
    median_run,
    write_results,
)

LIVER_AUDIT = REPO_DIR / ".venv" / "bin" / "liver-audit"

# UK Biobank's hesin columns (Showcase category 2000): those the layout reads are filled
# from the extract, the rest NA or a plausible constant, so the file is as wide as UKB's.
HESIN = """
select
    eid, ins_index, 'HES' as dsource, 71 as source,
    strftime(EPISTART::date, '%d/%m/%Y') as epistart,
    strftime(EPIEND::date, '%d/%m/%Y') as epiend,
    (EPIEND::date - EPISTART::date) as epidur, 'NA' as bedyear, 3 as epistat, 1 as epitype,
    1 as epiorder, ins_index as spell_index, 0 as spell_seq, 2 as spelbgin, 'Y' as spelend,
    'NA' as speldur, PROCODE3 as pctcode, PROCODE3 as gpprpct, 'NA' as category,
    null as elecdate, 'NA' as elecdur,
    strftime(ADMIDATE::date, '%d/%m/%Y') as admidate,
    2001 as admimeth_uni, 21 as admimeth, 1000 as admisorc_uni, 19 as admisorc,
    'NA' as firstreg, 1000 as classpat_uni, 1 as classpat, 800 as intmanag_uni, 8 as intmanag,
    1010 as mainspef_uni, 180 as mainspef, 1040 as tretspef_uni, 180 as tretspef,
    8 as operstat, strftime(EPIEND::date, '%d/%m/%Y') as disdate, 1000 as dismeth_uni,
    1 as dismeth, 1000 as disdest_uni, 19 as disdest, 99 as carersi
from episodes
"""
# One row per filled position, in UKB's columns.
POSITIONS = ", ".join(f'(OPERTN_4_{p:02d}, OPDATE_{p:02d}) as "{p}"' for p in range(1, 25))
HESIN_OPER = f"""
select
    eid, ins_index, position::integer - 1 as arr_index,
    case when position = '1' then 1 else 2 end as level,
    strftime(try_cast(opdate as date), '%d/%m/%Y') as opdate,
    'NA' as oper3, 'NA' as oper3_nb, trim(code) as oper4, 'NA' as oper4_nb, 'NA' as posopdur,
    'NA' as preopdur
from (
    unpivot (select eid, ins_index, columns('^(OPERTN_4|OPDATE)_\\d\\d$') from episodes)
    on {POSITIONS} into name position value code, opdate
)
where trim(code) not in ('', '-', '&')
order by eid, ins_index, arr_index
"""
DIAGNOSES = ", ".join(f'DIAG_4_{p:02d} as "{p}"' for p in range(1, 21))
HESIN_DIAG = f"""
select
    eid, ins_index, position::integer - 1 as arr_index,
    case when position = '1' then 1 else 2 end as level,
    null as diag_icd9, 'NA' as diag_icd9_nb, replace(trim(code), 'X', '') as diag_icd10,
    'NA' as diag_icd10_nb
from (
    unpivot (select eid, ins_index, columns('^DIAG_4_\\d\\d$') from episodes)
    on {DIAGNOSES} into name position value code
)
where trim(code) not in ('', '-', '&')
order by eid, ins_index, arr_index
"""

# The floor's liver check: J02.3/J02.4 and whether the next procedure is Y75.2/Y75.4.
FLOOR_SQL = """
select resection.oper4 as code,
    case when next.oper4 in ('Y752', 'Y754') then next.oper4 else 'other_or_none' end as outcome,
    count(*) as episodes,
from oper as resection
left join oper as next
    on next.eid = resection.eid and next.ins_index = resection.ins_index
    and next.arr_index::integer = resection.arr_index::integer + 1
where resection.oper4 in ('J023', 'J024')
group by all
order by all
"""


def make_delivery(episodes: int, folder: Path, seed: int) -> dict:
    """hesin.txt, hesin_oper.txt and hesin_diag.txt in `folder`; their row counts."""
    wide = folder / "wide.parquet"
    generate(episodes, wide, "parquet", seed, folder / "theatre.csv")
    con = duckdb.connect()
    con.execute(
        "create table episodes as select (row_number() over () - 1) // 8 + 1 as eid, "
        "(row_number() over () - 1) % 8 as ins_index, * "
        f"from read_parquet('{wide}')"
    )
    counts = {}
    for name, query in (("hesin", HESIN), ("hesin_oper", HESIN_OPER), ("hesin_diag", HESIN_DIAG)):
        path = folder / f"{name}.txt"
        con.execute(f"copy ({query}) to '{path}' (format csv, delimiter '\t', header)")
        counts[name] = con.execute(
            f"select count(*) from read_csv('{path}', delim = '\t', header = true)"
        ).fetchall()[0][0]
        counts[f"{name}_mb"] = round(path.stat().st_size / 2**20, 1)
    con.close()
    wide.unlink()
    (folder / "theatre.csv").unlink()
    return counts


def floor(hesin: str, oper: str, diag: str, database: str) -> None:
    """The three files into tables of a fresh DuckDB file, then the liver check (JSON out)."""
    con = duckdb.connect(database)
    for table, path in (("hesin", hesin), ("oper", oper), ("diag", diag)):
        con.execute(
            f"create table {table} as select * from "
            "read_csv(?, delim = '\t', header = true, all_varchar = true)",
            [path],
        )
    outcomes = {f"{c}->{o}": n for c, o, n in con.execute(FLOOR_SQL).fetchall()}
    con.close()
    print(json.dumps({"outcomes": outcomes}))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "floor":
        return floor(*sys.argv[2:6])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=5_000_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--keep", action="store_true", help="keep the files and databases")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="liver-audit-ukb-"))
    folder = workdir / f"uk-biobank-{args.episodes}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    print(f"generating {args.episodes:,} episodes in UK Biobank's layout in {folder} ...")
    generated = make_delivery(args.episodes, folder, args.seed)
    print("  " + ", ".join(f"{k} {v:,}" for k, v in generated.items()), flush=True)
    files = [str(folder / f"{name}.txt") for name in ("hesin", "hesin_oper", "hesin_diag")]
    rows = generated["hesin"] + generated["hesin_oper"] + generated["hesin_diag"]
    floors, ours_runs = [], []
    for attempt in range(1, args.repeat + 1):
        print(f"  floor ({attempt}/{args.repeat}) ...", flush=True)
        (folder / "floor.duckdb").unlink(missing_ok=True)
        floor_argv = [sys.executable, str(Path(__file__)), "floor", *files,
                      str(folder / "floor.duckdb")]  # fmt: skip
        floors.append(measure(floor_argv, folder / "floor.log", rows))
        print(f"  ours ({attempt}/{args.repeat}) ...", flush=True)
        shutil.rmtree(folder / "ours", ignore_errors=True)
        (folder / "ours").mkdir()
        warehouse = folder / "ours" / "wh.duckdb"
        ours_argv = [str(LIVER_AUDIT), "run", *files, "--warehouse", str(warehouse),
                     "--out", str(folder / "ours" / "out")]  # fmt: skip
        ours_runs.append(add_stages(measure(ours_argv, folder / "ours.log", rows), warehouse))
    floor_run, ours = median_run(floors), median_run(ours_runs)
    result = {"episodes": args.episodes, "generated": generated, "floor": floor_run, "ours": ours}
    if "error" not in floor_run and "error" not in ours:
        result["ours_over_floor"] = {
            "wall": round(ours["wall_seconds"] / floor_run["wall_seconds"], 2),
            "peak_rss": round(ours["peak_rss_mb"] / floor_run["peak_rss_mb"], 2),
        }
    header = {"machine": machine(), "command": shlex.join(ours_argv)}
    write_results(RESULTS_DIR / f"uk-biobank-{args.episodes}.json", header, [result])
    for name, run in (("floor", floor_run), ("ours", ours)):
        print(f"{name:>6}: {run.get('wall_seconds')} s, peak {run.get('peak_rss_mb')} MB"
              + (f", stages {run.get('stages')}" if "stages" in run else ""))  # fmt: skip
    print(f"results in {RESULTS_DIR}/uk-biobank-{args.episodes}.json")
    if not args.keep:
        shutil.rmtree(folder)
        if args.workdir is None:
            workdir.rmdir()


if __name__ == "__main__":
    main()
