-- The table functions one statement calls, found in its syntax tree (parsed, never run),
-- and a null row when DuckDB cannot serialize it: `liver-audit sql` runs a query only if
-- every table function in it is one that only reads (analyst_sql.py).
with parsed as (select json_serialize_sql($statement)::json as tree)
select lower(node.value ->> '$.function.function_name') as function_name
from parsed, json_tree(parsed.tree) as node
where node.value ->> '$.type' = 'TABLE_FUNCTION'
union all
select null from parsed where parsed.tree ->> '$.error' = 'true'
