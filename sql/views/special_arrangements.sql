-- The special arrangements register: one row per liver procedure held that NICE allows only
-- with special arrangements for clinical governance, consent and audit, or only in research
-- (data/reference/special_arrangements.csv, table special_arrangements_guidance): a code of
-- the guidance's `codes` (or its category), with one of its `with_codes` among the codes
-- after it up to the next body-system code (Chapters A-W) where it names any, on an episode
-- with one of its `diagnoses` where it names any. For the trust's clinical governance lead:
-- each is to be audited and consented (IPG788, IPG664, IPG672).
with

guidance as (
    select
        guidance,
        procedure,
        arrangement,
        url,
        string_split(codes, ' ') as codes,
        coalesce(string_split(nullif(with_codes, ''), ' '), []) as with_codes,
        coalesce(string_split(nullif(diagnoses, ''), ' '), []) as diagnoses,
    from special_arrangements_guidance
),

episode_codes as (
    select
        procedures.*,
        -- the next body-system code (Chapters A-W) after this one: where its group ends
        min(case when left(procedures.procedure_code, 1) between 'A' and 'W' then position end)
            over (partition by episode_id order by position
                rows between 1 following and unbounded following) as group_end,
    from procedures
    where episode_id in (
        select episode_id from procedures inner join guidance
            on list_contains(guidance.codes, procedures.procedure_code)
            or list_contains(guidance.codes, left(procedures.procedure_code, 3))
    )
),

candidates as (
    select episode_codes.*, guidance.*
    from episode_codes
    inner join guidance
        on list_contains(guidance.codes, episode_codes.procedure_code)
        or list_contains(guidance.codes, left(episode_codes.procedure_code, 3))
),

-- the codes after each candidate up to the next body-system code
grouped as (
    select
        candidates.episode_id,
        candidates.position,
        candidates.guidance,
        coalesce(
            list(later.procedure_code order by later.position)
                filter (where later.procedure_code is not null),
            []
        ) as group_codes,
    from candidates
    left join episode_codes as later
        on later.episode_id = candidates.episode_id
        and later.position > candidates.position
        and later.position < coalesce(candidates.group_end, 1000)
    group by all
),

coded as (
    select episode_id, list(diagnosis_code order by position) as diagnosis_codes
    from diagnoses
    where episode_id in (select episode_id from candidates)
    group by episode_id
)

select
    candidates.guidance,
    candidates.procedure,
    candidates.arrangement,
    candidates.url,
    candidates.episode_id,
    candidates.position,
    candidates.procedure_code,
    candidates.procedure_date,
    episodes.provider_code,
    episodes.episode_end_date,
    strftime(coalesce(candidates.procedure_date, episodes.episode_end_date), '%Y-%m') as month,
from candidates
inner join grouped using (episode_id, position, guidance)
inner join episodes using (episode_id)
left join coded using (episode_id)
where (
        len(candidates.with_codes) = 0
        or len(list_filter(grouped.group_codes, lambda code:
            list_contains(candidates.with_codes, code) or list_contains(candidates.with_codes, left(code, 3)))) > 0
    )
    and (
        len(candidates.diagnoses) = 0
        or len(list_filter(coalesce(coded.diagnosis_codes, []), lambda code:
            list_contains(candidates.diagnoses, code) or list_contains(candidates.diagnoses, left(code, 3)))) > 0
    )
