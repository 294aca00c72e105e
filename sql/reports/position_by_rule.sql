-- Per rule, of the report's position (position, a temp table: sql/reports/position.sql):
-- the findings assessed, needing action, open, reviewed, and in the compliant sample (the
-- worklist's rules sheet).
select
    rule_id,
    count(*) as assessed,
    count(*) filter (where needs_action) as needing_action,
    count(*) filter (where open) as open,
    count(*) filter (where reviewed) as reviewed,
    count(*) filter (where in_compliant_sample) as in_compliant_sample,
from position
group by rule_id
