-- The first load of a file with this content ($sha256), if any: its file id, run and name.
select file_id, run_id, file_name
from ledger
where sha256 = $sha256 and action = 'loaded'
order by seen_at
limit 1
