-- One row per (episode, position, code) of the episodes in scope (episodes_in_scope), with
-- the day that decides the OPCS-4 version in force ($version_date, the setting
-- opcs_version_date: NCCS 2026 p.6 gives the versions' dates, not which date of an episode
-- decides) and that version. opcs_version is null with no such day; opcs_version_assumed is
-- then the latest version. Kept to one join per procedure: with code_check_scope =
-- all_episodes this is every procedure of a national year (procedures_to_assess adds the
-- runs and groups for the episodes to assess only).
with

dated as (
    select
        procedures.episode_id,
        procedures.position,
        procedures.procedure_code,
        procedures.procedure_date,
        case $version_date
            when 'procedure_date' then coalesce(procedures.procedure_date, episodes_in_scope.episode_end_date)
            when 'episode_end' then episodes_in_scope.episode_end_date
            when 'episode_start' then episodes_in_scope.episode_start_date
            when 'admission' then episodes_in_scope.admission_date
        end as version_day,
    from procedures
    inner join episodes_in_scope using (episode_id)
)

select
    dated.*,
    opcs_versions.version as opcs_version,
    coalesce(
        opcs_versions.version, (select max_by(version, rank) from opcs_versions)
    ) as opcs_version_assumed,
from dated
left join opcs_versions
    on dated.version_day between opcs_versions.first_day
    and coalesce(opcs_versions.last_day, '9999-12-31'::date)
