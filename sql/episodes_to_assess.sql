-- One row per episode the rules assess, with its provider, dates and file: those with a liver
-- procedure (OPCS-4 J01-J12) that a file to assess loaded, or whose theatre record it
-- delivered. (An episode's procedures all come from the file that last delivered it, so the
-- liver procedure's own file_id says which file loaded the episode.) Filtering to liver
-- procedures first keeps this to a scan of procedures, not a join of all of them.
with

liver_episodes as (
    select distinct episode_id
    from procedures
    where procedure_code >= 'J01' and procedure_code < 'J13'
        and (
            file_id in (select file_id from files_to_assess)
            or episode_id in (
                select episode_id from theatre_records
                where file_id in (select file_id from files_to_assess)
            )
        )
)

select
    episodes.episode_id,
    episodes.provider_code,
    episodes.admission_date,
    episodes.episode_start_date,
    episodes.episode_end_date,
    episodes.file_id,
from episodes
semi join liver_episodes using (episode_id)
