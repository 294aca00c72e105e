"""Floor for the benchmark: load the extract into a DuckDB file and run a minimal liver check."""

import json
import sys

import duckdb

LOAD_SQL = {
    "csv": "create table raw as select * from read_csv(?, delim='|', header=true, all_varchar=true)",
    "parquet": "create table raw as select * from read_parquet(?)",
}

# One row per resection code and outcome: is the next procedure an approach code?
ASSESS_SQL = r"""
with procedures as (
    select
        EPIKEY as episode_id,
        cast(right(field, 2) as integer) as position,
        code,
    from raw
    unpivot (code for field in (columns('^OPERTN_4_\d\d$')))
),
resections as (
    select * from procedures where code in ('J023', 'J024')
),
assessed as (
    select
        resections.code,
        next_procedures.code as next_code,
    from resections
    left join procedures as next_procedures
        on next_procedures.episode_id = resections.episode_id
        and next_procedures.position = resections.position + 1
)
select
    code,
    case when next_code in ('Y752', 'Y754') then next_code else 'other_or_none' end as outcome,
    count(*) as episodes,
from assessed
group by all
order by all
"""


def main(extract: str, database: str) -> None:
    """Load `extract` into a fresh DuckDB file `database` and print outcome counts as JSON."""
    con = duckdb.connect(database)
    con.execute(LOAD_SQL["parquet" if extract.endswith(".parquet") else "csv"], [extract])
    rows = con.execute("select count(*) from raw").fetchall()[0][0]
    outcomes = {f"{code}->{outcome}": n for code, outcome, n in con.execute(ASSESS_SQL).fetchall()}
    con.close()
    print(json.dumps({"rows": rows, "outcomes": outcomes}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
