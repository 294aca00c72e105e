-- A long layout's rows that give one episode the same position twice: every copy is
-- quarantined, so each carries the count (as sql/stg_episodes_id_copies.sql counts ids).
-- A wide extract's positions are its columns, each once: it never runs this.
update stg_procedures
set position_copies = repeated.copies
from (
    select episode_id, position, count(*) as copies
    from stg_procedures
    where episode_id is not null and position is not null
    group by episode_id, position
    having count(*) > 1
) as repeated
where stg_procedures.episode_id = repeated.episode_id
    and stg_procedures.position = repeated.position;

update stg_diagnoses
set position_copies = repeated.copies
from (
    select episode_id, position, count(*) as copies
    from stg_diagnoses
    where episode_id is not null and position is not null
    group by episode_id, position
    having count(*) > 1
) as repeated
where stg_diagnoses.episode_id = repeated.episode_id
    and stg_diagnoses.position = repeated.position;
