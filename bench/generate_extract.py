"""Generate a synthetic HES APC extract (and matching theatre log) entirely in DuckDB SQL."""

import argparse
import re
import time
from pathlib import Path

import duckdb

# Weights are rounded national HES APC counts (FY2023-24, per OPCS-4 code); primary
# codes may start an episode, the rest (site, approach, imaging) only follow one.
OPCS4_CODES = """
    (values
        ('X292', 90, true), ('U051', 70, true), ('U212', 60, true), ('G451', 60, true),
        ('C712', 40, true), ('H221', 35, true), ('U201', 35, true), ('E851', 25, true),
        ('K634', 25, true), ('J183', 25, true), ('X403', 20, true), ('H201', 20, true),
        ('M479', 20, true), ('X724', 20, true), ('W381', 10, true), ('G475', 10, true),
        ('M451', 8, true), ('T201', 5, true), ('H011', 3, true),
        ('Z942', 80, false), ('Y981', 80, false), ('Z943', 70, false), ('Y532', 45, false),
        ('Y973', 40, false), ('Y534', 35, false), ('Z926', 25, false), ('Z274', 20, false),
        ('Y819', 12, false), ('Y753', 1, false)
    ) as codes(code, weight, is_primary)
"""

# J02.3 (1,292) + J02.4 (588) in FY2023-24 over about 21 million episodes (HES APC counts,
# ../shared/external/opcs4/opcs4_usage_hes_apc_fy2012-13_to_fy2023-24.csv).
LIVER_RATE = 1880 / 21_000_000

# Common ICD-10 diagnoses (FY2023-24 counts, rounded); liver diagnoses for resections.
ICD10_CODES = """
    (values
        ('I10X', 64, false), ('Z864', 25, false), ('E119', 24, false), ('Z921', 21, false),
        ('J459', 19, false), ('I489', 19, false), ('F171', 17, false), ('Z867', 17, false),
        ('E669', 15, false), ('Z880', 13, false), ('N179', 11, false), ('J449', 10, false),
        ('K590', 7, false), ('R69X', 3, false), ('K802', 3, false), ('C787', 3, false),
        ('C787', 55, true), ('C220', 15, true), ('C221', 8, true), ('C189', 7, true),
        ('D134', 5, true), ('K760', 5, true), ('K802', 5, true)
    ) as codes(code, weight, is_liver)
"""

MACROS = f"""
create or replace temp macro u(i, salt) as
    (hash(i, getvariable('seed'), salt) % 1000000) / 1000000.0;
create or replace temp macro pick(codes, i, salt) as
    codes[1 + (hash(i, getvariable('seed'), salt) % len(codes))::bigint];
set variable primary_procedures = (
    select list(code) from {OPCS4_CODES}, range(weight) where is_primary);
set variable procedures = (select list(code) from {OPCS4_CODES}, range(weight));
set variable diagnoses = (
    select list(code) from {ICD10_CODES}, range(weight) where not is_liver);
set variable liver_diagnoses = (
    select list(code) from {ICD10_CODES}, range(weight) where is_liver);
set variable providers = (
    select list('R' || chr((65 + (k * 7) % 26)::integer)
                || substr('0123456789ABCDEFGHJKLMNPQRTVWXYZ', 1 + (k * 13) % 32, 1) order by k)
    from range(150) as providers(k));
"""

EPISODE_DRAWS = """
select
    range as i,
    u(range, 'liver') < getvariable('liver_rate') as is_liver,
    u(range, 'n_proc') as u_n_proc,
    u(range, 'n_diag') as u_n_diag,
    u(range, 'approach') as u_approach,
    floor(365 * u(range, 'start'))::integer as start_day,
    case
        when is_liver then 3 + floor(12 * u(range, 'stay'))
        when u(range, 'stay') < 0.45 then 0
        else 1 + floor(-ln(1 - u(range, 'stay_len')) * 4)
    end::integer as stay_days,
    case
        when u(range, 'pre') < 0.85 then 0
        else 1 + floor(-ln(1 - u(range, 'pre_len')) * 4)
    end::integer as days_before_episode
from range(getvariable('rows'))
"""


def position_sql(template: str, count: int) -> str:
    """Repeat a column template for positions 1..count ({p}, zero-padded {pp}, {prev} column)."""
    return ",\n".join(
        template.format(p=p, pp=f"{p:02d}", prev=f"b{p - 1:02d}" if p > 1 else "null")
        for p in range(1, count + 1)
    )


# The rest of a HES APC row the audit does not read, so that the extract has its width
# (about 100 columns, as NHS Digital's artificial HES APC): administrative codes, geography,
# spell flags and counts as float text.
OTHER_FIELDS = """
    ['11', '12', '13', '21', '22', '28', '81'][1 + (hash(i, 'am') % 7)::integer] as ADMIMETH,
    ['19', '51', '54', '65'][1 + (hash(i, 'as') % 4)::integer] as ADMISORC,
    '01' as ADMINCAT,
    case when stay_days = 0 then '2' else '1' end as CLASSPAT,
    strftime(epiend, '%Y-%m-%d') as DISDATE,
    ['19', '29', '51', '54', '79'][1 + (hash(i, 'dd') % 5)::integer] as DISDEST,
    ['1', '2', '3', '4'][1 + (hash(i, 'dm') % 4)::integer] as DISMETH,
    strftime(admidate - 14, '%Y-%m-%d') as ELECDATE,
    '01' as EPIORDER,
    '3' as EPISTAT,
    '1' as EPITYPE,
    '1' as FCE,
    ['100', '101', '110', '300', '502'][1 + (hash(i, 'ms') % 5)::integer] as MAINSPEF,
    ['100', '101', '110', '300', '502'][1 + (hash(i, 'ts') % 5)::integer] as TRETSPEF,
    ['A', 'B', 'C', 'H', 'J', 'M', 'Z', '99'][1 + (hash(i, 'et') % 8)::integer] as ETHNOS,
    'E1200000' || (1 + hash(i, 'rg') % 9)::varchar as RESGOR,
    'E0' || lpad((1000000 + hash(i, 'ls') % 35000)::varchar, 7, '0') as LSOA11,
    ['15E', '15F', '00L', '99A', '13T'][1 + (hash(i, 'cg') % 5)::integer] as CCG_RESPONSIBILITY,
    '2526' as FYEAR,
    lpad((hash(i, 'hesid') % 10000000000)::varchar, 10, '0') as HESID,
    '1' as SPELBGIN,
    'Y' as SPELEND,
    '8' as NEOCARE,
    n_diag::varchar || '.0' as DIAG_COUNT,
    n_proc::varchar || '.0' as OPERTN_COUNT"""


def episodes_view_sql() -> str:
    """Return the SQL of the `episodes` view: one row per synthetic episode."""
    base_procedure = """
        case
            when {p} > n_proc then null
            when {p} = 1 and is_liver then liver_code
            when {p} = 2 and approach_code is not null then approach_code
            when {p} = 1 then pick(getvariable('primary_procedures'), i, 'op{p}')
            else pick(getvariable('procedures'), i, 'op{p}')
        end as b{pp}"""
    diagnosis = """
        case
            when {p} > n_diag then null
            when {p} = 1 and is_liver then pick(getvariable('liver_diagnoses'), i, 'dx1')
            else pick(getvariable('diagnoses'), i, 'dx{p}')
        end as DIAG_4_{pp}"""
    # A cholecystectomy or appendicectomy is usually followed by its approach code; other
    # abdominal and pelvic operations sometimes are (rates tuned so that Y75.2 and Y75.3 come
    # out near their national shares: 1.3% and 0.26% of episodes, FY2023-24).
    procedure = """
        case
            when n_proc = 0 and {p} = 1 then '-   '
            when {prev} in ('J183', 'H011') and b{pp} is not null then
                case
                    when u(i, 'lap{p}') < 0.30 then 'Y752'
                    when u(i, 'lap{p}') < 0.32 then 'Y753'
                    else b{pp}
                end
            when {prev} in ('G451', 'H221', 'M479', 'K634', 'T201', 'M451')
                and b{pp} is not null then
                case
                    when u(i, 'lap{p}') < 0.02 then 'Y752'
                    when u(i, 'lap{p}') < 0.022 then 'Y753'
                    else b{pp}
                end
            else b{pp}
        end as OPERTN_4_{pp}"""
    operation_date = """
        case
            when b{pp} is null then null
            when {p} = 1 or u(i, 'od{p}') < 0.85 then strftime(operation_date, '%Y-%m-%d')
            else strftime(
                epistart + floor(u(i, 'odd{p}') * (epiend - epistart + 1))::integer, '%Y-%m-%d')
        end as OPDATE_{pp}"""
    return f"""
create or replace temp view episodes as
with draws as ({EPISODE_DRAWS}),
shaped as (
    select
        *,
        case when u(i, 'j02') < 2 / 3 then 'J023' else 'J024' end as liver_code,
        case
            when not is_liver then null
            when u_approach < 0.70 then 'Y752'
            when u_approach < 0.78 then 'Y754'
            when u_approach < 0.85 then 'Y753'
            when u_approach < 0.90 then 'Y714'
            when u_approach < 0.95 then 'Z301'
        end as approach_code,
        case
            when is_liver then 1 + (approach_code is not null)::integer
                + floor(4 * u(i, 'extra') ^ 2)::integer
            when u_n_proc < 0.40 then 0
            when u_n_proc < 0.65 then 1
            when u_n_proc < 0.78 then 2
            when u_n_proc < 0.87 then 3
            when u_n_proc < 0.92 then 4
            when u_n_proc < 0.95 then 5
            when u_n_proc < 0.97 then 6
            else 7 + floor(18 * ((u_n_proc - 0.97) / 0.03) ^ 5)::integer
        end as n_proc,
        case
            when u_n_diag < 0.25 then 1
            when u_n_diag < 0.45 then 2
            when u_n_diag < 0.60 then 3
            when u_n_diag < 0.72 then 4
            when u_n_diag < 0.81 then 5
            when u_n_diag < 0.88 then 6
            else 7 + floor(14 * ((u_n_diag - 0.88) / 0.12) ^ 3)::integer
        end as n_diag,
        date '2025-04-01' + start_day as epistart,
        least(date '2026-03-31', epistart + stay_days) as epiend,
        greatest(date '2025-04-01', epistart - days_before_episode) as admidate,
        epistart + floor(u(i, 'op_day') * (epiend - epistart + 1))::integer as operation_date
    from draws
),
coded as (
    select
        *,
        {position_sql(base_procedure, 24)}
    from shaped
)
select
    i,
    is_liver,
    approach_code,
    lpad(((387420489 * i + hash(getvariable('seed')) % 1000000000000)
          % 1000000000000)::varchar, 12, '0') as EPIKEY,
    getvariable('providers')[1 + case
        when is_liver then floor(20 * u(i, 'provider'))
        else floor(150 * u(i, 'provider') ^ 1.3)
    end::integer] as PROCODE3,
    strftime(admidate, '%Y-%m-%d') as ADMIDATE,
    strftime(epistart, '%Y-%m-%d') as EPISTART,
    strftime(epiend, '%Y-%m-%d') as EPIEND,
    case when u(i, 'sex') < 0.002 then '9' when u(i, 'sex') < 0.52 then '2' else '1' end as SEX,
    case
        when u(i, 'age') < 0.008 then (7001 + floor(7 * u(i, 'infant')))::integer::varchar
        when is_liver then (35 + floor(50 * u(i, 'age_years')))::integer::varchar
        else least(100, floor(101 * sqrt(u(i, 'age_years'))))::integer::varchar
    end as STARTAGE,
    {position_sql(diagnosis, 20)},
    {position_sql(procedure, 24)},
    {position_sql(operation_date, 24)},
    {OTHER_FIELDS}
from coded
"""


def extract_columns() -> str:
    """Return the comma-separated HES column list written to the extract."""
    return ", ".join(
        ["EPIKEY", "PROCODE3", "ADMIDATE", "EPISTART", "EPIEND", "SEX", "STARTAGE"]
        + [f"DIAG_4_{p:02d}" for p in range(1, 21)]
        + [f"OPERTN_4_{p:02d}" for p in range(1, 25)]
        + [f"OPDATE_{p:02d}" for p in range(1, 25)]
        + re.findall(r" as (\w+)", OTHER_FIELDS)
    )


# Theatre systems record the approach as free text; it mostly agrees with the coding.
THEATRE_SQL = """
select
    EPIKEY,
    OPDATE_01 as OPDATE,
    case
        when approach_code = 'Y752' then case
            when u(i, 'theatre') < 0.70 then 'Laparoscopic'
            when u(i, 'theatre') < 0.90 then 'lap'
            when u(i, 'theatre') < 0.95 then 'robotic'
            else 'Open' end
        when approach_code = 'Y754' then case
            when u(i, 'theatre') < 0.80 then 'Hand assisted' else 'Laparoscopic' end
        when approach_code = 'Y753' then case
            when u(i, 'theatre') < 0.85 then 'robotic' else 'Laparoscopic' end
        when approach_code = 'Y714' then case
            when u(i, 'theatre') < 0.85 then 'converted to open'
            when u(i, 'theatre') < 0.95 then 'Open'
            else 'Laparoscopic' end
        else case
            when u(i, 'theatre') < 0.75 then 'Open'
            when u(i, 'theatre') < 0.90 then 'Laparoscopic'
            when u(i, 'theatre') < 0.95 then 'lap'
            else 'converted to open' end
    end as APPROACH
from episodes
where is_liver
order by i
"""


def quote_path(path: Path) -> str:
    """Quote a file path as a SQL string literal (COPY TO takes no bound parameters)."""
    return "'" + str(path).replace("'", "''") + "'"


def generate(
    rows: int, out: Path, fmt: str = "csv", seed: int = 1, theatre_out: Path | None = None
) -> dict:
    """Write the extract (and theatre file) and return row counts and timing."""
    started = time.perf_counter()
    con = duckdb.connect()
    con.execute("set variable rows = ?", [rows])
    con.execute("set variable seed = ?", [seed])
    con.execute("set variable liver_rate = ?", [LIVER_RATE])
    con.execute(MACROS)
    con.execute(episodes_view_sql())
    options = "format csv, delimiter '|', header" if fmt == "csv" else "format parquet"
    out.parent.mkdir(parents=True, exist_ok=True)
    con.execute(f"copy (select {extract_columns()} from episodes) to {quote_path(out)} ({options})")
    resections = None
    if theatre_out is not None:
        theatre_out.parent.mkdir(parents=True, exist_ok=True)
        con.execute(f"copy ({THEATRE_SQL}) to {quote_path(theatre_out)} (format csv, header)")
        resections = con.execute(
            f"select count(*) from read_csv({quote_path(theatre_out)})"
        ).fetchall()[0][0]
    con.close()
    return {
        "rows": rows,
        "liver_resections": resections,
        "seconds": round(time.perf_counter() - started, 2),
    }


def monthly_extracts(year: Path, folder: Path, months: list[int]) -> list[str]:
    """A pipe-delimited extract split by month of episode end, one file per month, in order."""
    paths = []
    for month in months:
        path = folder / f"month-{month:02d}.csv"
        duckdb.execute(
            f"copy (select * from read_csv({quote_path(year)}, delim = '|', header = true, "
            f"all_varchar = true) where month(EPIEND::date) = {month}) "
            f"to {quote_path(path)} (format csv, delimiter '|', header)"
        )
        paths.append(str(path))
    return paths


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--format", choices=["csv", "parquet"], default="csv")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--theatre-out", type=Path)
    args = parser.parse_args()
    result = generate(args.rows, args.out, args.format, args.seed, args.theatre_out)
    print(
        f"wrote {args.out} ({result['rows']:,} rows, {result['seconds']} s)"
        + (
            f"; {args.theatre_out} ({result['liver_resections']} resections)"
            if args.theatre_out
            else ""
        )
    )


if __name__ == "__main__":
    main()
