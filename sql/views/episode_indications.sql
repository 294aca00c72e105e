-- One row per episode with a liver procedure (OPCS-4 J01-J12): why it was done, as its
-- diagnoses (any position) say: the first indication of data/reference/liver_indications.csv
-- (table liver_indications, by rank) whose codes the episode has (a code or its category:
-- C22 covers C22.9), with one of its with_codes too where it names any; 'none_of_these'
-- when none. Groups from issue 15 after NICE IPG135 (indications of liver resection) and
-- IPG327/IPG401 (colorectal liver metastases: C78.7 with a C18 code).
with

groups as (
    select
        indication,
        rank::integer as rank,
        string_split(codes, ' ') as codes,
        coalesce(string_split(nullif(with_codes, ''), ' '), []) as with_codes,
    from liver_indications
),

liver_episodes as (
    select distinct episode_id
    from procedures
    where procedure_code >= 'J01' and procedure_code < 'J13'
),

coded as (
    select
        liver_episodes.episode_id,
        -- in position order: the same list whatever order the rows were read in
        coalesce(
            list(diagnoses.diagnosis_code order by diagnoses.position)
                filter (where diagnoses.diagnosis_code is not null),
            []
        ) as diagnosis_codes,
    from liver_episodes
    left join diagnoses using (episode_id)
    group by liver_episodes.episode_id
),

matched as (
    select
        coded.episode_id,
        min_by(groups.indication, groups.rank) as indication,
    from coded
    inner join groups
        on len(list_filter(coded.diagnosis_codes, lambda code:
            list_contains(groups.codes, code) or list_contains(groups.codes, left(code, 3)))) > 0
        and (
            len(groups.with_codes) = 0
            or len(list_filter(coded.diagnosis_codes, lambda code:
                list_contains(groups.with_codes, code) or list_contains(groups.with_codes, left(code, 3)))) > 0
        )
    group by coded.episode_id
)

select
    coded.episode_id,
    coalesce(matched.indication, 'none_of_these') as indication,
    coded.diagnosis_codes,
from coded
left join matched using (episode_id)
