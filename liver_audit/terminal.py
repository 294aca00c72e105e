"""Plain text tables for the terminal (history, sql)."""

import polars as pl


def print_table(table: pl.DataFrame) -> None:
    """A plain text table: text left-aligned, numbers right-aligned, nulls blank."""
    cells = [["" if v is None else str(v) for v in row] for row in table.iter_rows()]
    widths = [max([len(h), *(len(c[i]) for c in cells)]) for i, h in enumerate(table.columns)]
    numeric = [table[c].dtype.is_numeric() for c in table.columns]
    for line in [table.columns, *cells]:
        print(
            "  ".join(
                v.rjust(w) if n else v.ljust(w) for v, w, n in zip(line, widths, numeric)
            ).rstrip()
        )
