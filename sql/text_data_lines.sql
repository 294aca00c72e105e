-- The data lines of a delimited text file: its non-blank lines after the header, read with
-- no quoting, so that a stray quote cannot merge lines, and with the line end as the
-- delimiter, so that no line is split. A line that is not UTF-8 is rejected, not counted:
-- read_raw adds the rejected lines when this is run storing rejects.
select count(line) as data_lines
from read_csv(
    $path, header = true, auto_detect = false, columns = {'line': 'VARCHAR'},
    delim = E'\n', quote = '', escape = '', strict_mode = false, compression = $compression
)
