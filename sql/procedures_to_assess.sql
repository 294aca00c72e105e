-- One row per (episode, position, code) of the episodes to assess: the procedures in scope
-- (procedures_in_scope: the day that decides the OPCS-4 version in force, and that version)
-- of the episodes with a liver procedure, with OPCS-4's structure the rules read.
-- OPCS-4's structure, read by the rules: Chapters Y and Z are subsidiary codes (methods and
-- sites) that qualify the procedure before them (is_subsidiary); a procedure's run is the
-- subsidiary codes after it up to the next procedure, and each code's owner is the
-- procedure whose run it is in (owner_position, owner_code; null before any procedure); a
-- procedure's row lists its run (run_codes, in position order; empty when none). Empty
-- positions are not in procedures, so a gap does not break a run.
-- Chapter X (miscellaneous operations: X65 radiotherapy delivery, X70-X72 chemotherapy) is
-- not subsidiary, so a run stops at an X code; NICE's coding recommendations put X codes
-- with a body-system procedure's own Y/Z codes (SIRT: J12.3, X65.3, Y36.4, Y53.4). So a
-- body-system code's row (Chapters A-W) also lists its group (group_codes, in position
-- order; empty when none): every code after it, of Chapters X, Y and Z, up to the next
-- body-system code. Null on an X, Y or Z code's row.
with

versioned as (
    select
        procedures_in_scope.* exclude (liver_episode),
        left(procedure_code, 1) in ('Y', 'Z') as is_subsidiary,
    from procedures_in_scope
    where liver_episode
),

owned as (
    select
        *,
        max(case when not is_subsidiary then position end) over (
            partition by episode_id order by position rows between unbounded preceding and current row
        ) as owner_position,
    from versioned
),

grouped as (
    select
        episode_id,
        position,
        procedure_code,
        max(case when left(procedure_code, 1) between 'A' and 'W' then position end) over (
            partition by episode_id order by position rows between unbounded preceding and current row
        ) as group_position,
    from owned
),

groups as (
    select
        episode_id,
        group_position,
        list(procedure_code order by position) filter (where position > group_position) as group_codes,
    from grouped
    where group_position is not null
    group by all
),

runs as (
    select
        episode_id,
        owner_position,
        list(procedure_code order by position) filter (where is_subsidiary) as run_codes,
    from owned
    where owner_position is not null
    group by all
)

select
    owned.*,
    owner.procedure_code as owner_code,
    case when not owned.is_subsidiary then coalesce(runs.run_codes, []) end as run_codes,
    case when left(owned.procedure_code, 1) between 'A' and 'W'
        then coalesce(groups.group_codes, []) end as group_codes,
from owned
left join owned as owner
    on owner.episode_id = owned.episode_id and owner.position = owned.owner_position
left join runs
    on runs.episode_id = owned.episode_id and runs.owner_position = owned.position
left join groups
    on groups.episode_id = owned.episode_id and groups.group_position = owned.position
