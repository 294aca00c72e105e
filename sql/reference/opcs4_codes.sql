-- One row per OPCS-4 category or code of any version held (opcs4_code_versions, from
-- data/reference/opcs4_codes.csv): its dotted form and its title in the latest version that
-- gives one. For titles beside codes (procedures_with_titles, the audit views); the rule
-- opcs_code_in_force reads the versions themselves.
create or replace table opcs4_codes as
select
    code,
    any_value(dotted) as dotted,
    max_by(title, rank) filter (where coalesce(title, '') <> '') as title,
from opcs4_code_versions
inner join opcs_versions using (version)
group by code
