-- One row per (episode, position, code) of the episodes in scope (episodes_in_scope), with
-- the day that decides the OPCS-4 version in force ($version_date, the setting
-- opcs_version_date: NCCS 2026 p.6 gives the versions' dates, not which date of an episode
-- decides) and that version, and liver_episode (one of the episodes to assess). opcs_version
-- is null with no such day; opcs_version_assumed is then the latest version. With
-- code_check_scope = all_episodes this is every procedure of a national year
-- (procedures_to_assess adds the runs and groups for the episodes to assess only): found
-- by file (codes_in_scope, sql/macros.sql), and an episode's dates looked up only where
-- they decide the day.
with

-- (as diagnoses_in_scope finds diagnoses: codes_in_scope, sql/macros.sql)
in_scope as (
    select * from codes_in_scope('procedures')
),

-- (the dates of the episodes whose dates decide a day: with procedure_date, those with a
-- procedure without its date; a superset, looked up by episode)
episode_dates as (
    select episode_id, admission_date, episode_start_date, episode_end_date,
    from episodes
    where episode_id in (
        select episode_id from procedures
        where $version_date <> 'procedure_date' or procedure_date is null
    )
),

dated as (
    select
        in_scope.episode_id,
        in_scope.position,
        in_scope.procedure_code,
        in_scope.procedure_date,
        case $version_date
            when 'procedure_date' then coalesce(in_scope.procedure_date, episode_dates.episode_end_date)
            when 'episode_end' then episode_dates.episode_end_date
            when 'episode_start' then episode_dates.episode_start_date
            when 'admission' then episode_dates.admission_date
        end as version_day,
        in_scope.liver_episode,
    from in_scope
    left join episode_dates using (episode_id)
),

-- (each day's version found once, for every day that may decide one: a range join of every
-- procedure sorts them all)
day_versions as (
    select days.version_day, opcs_versions.version as opcs_version,
    from (
        select procedure_date as version_day from procedures
        union select episode_end_date from episode_dates
        union select episode_start_date from episode_dates
        union select admission_date from episode_dates
    ) as days
    inner join opcs_versions
        on days.version_day between opcs_versions.first_day
        and coalesce(opcs_versions.last_day, '9999-12-31'::date)
)

select
    dated.* exclude (liver_episode),
    day_versions.opcs_version,
    coalesce(
        day_versions.opcs_version, (select max_by(version, rank) from opcs_versions)
    ) as opcs_version_assumed,
    dated.liver_episode,
from dated
left join day_versions using (version_day)
