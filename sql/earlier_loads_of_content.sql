-- The raw views of earlier loads of the same content, oldest first: a file loaded again
-- (--reload, or the same bytes under another name) reads the copy one of them kept, so
-- the warehouse keeps one copy per content.
select raw_table
from input_files
where sha256 = $sha256 and file_kind = $file_kind and file_format = $file_format
order by file_id
