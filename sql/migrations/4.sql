-- Schema version 3 -> 4 (issue 14: the standing position, verdicts back). Nothing to move:
-- the verdict kinds (data/reference/verdicts.csv, table verdict_kinds) and the views
-- current_verdicts and rule_precision come with the next connection that writes. The version
-- changes so that a reader (history, report, sql) of a warehouse an older version last wrote
-- is told to run it first, rather than fail on what it lacks.
select 1;
