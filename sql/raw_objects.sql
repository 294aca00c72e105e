-- One row per raw table or view and staging input in the warehouse (not a session's
-- temporary ones): what a load leaves, to be dropped if no loaded file refers to it.
select 'table' as kind, table_name as name
from duckdb_tables()
where (starts_with(table_name, 'raw_') or starts_with(table_name, 'stage_input_'))
    and not temporary
union all
select 'view', view_name
from duckdb_views()
where starts_with(view_name, 'raw_') and not temporary and not internal
