"""Make icd10_codes.csv: every ICD-10 code a HES 4-character diagnosis field can hold, as
HES holds it (3-character codes padded with X: C20X; no dot), with its title. Run from the
repository, with the project's shared folder beside it:
`.venv/bin/python data/reference/make_icd10_codes.py`. tests/unit/test_reference_data.py
makes it again and compares.

The NHS ICD-10 5th Edition file (TRUD) is not available here, so the list is made of two
public files that agree on almost every code:

- UK Biobank data-coding 19 (ICD-10, WHO content): a selectable 3-character code (no 4th
  character exists: C20) as C20X; every 4-character code (C78.7); a 5-character code (I70.00)
  as its 4 characters (I700), which is what a HES 4-character field holds. Left out: the
  3-character categories that have 4th characters (C78X is no code) and UK Biobank's own
  additions ending in X (I21X "presumed" myocardial infarction).
- The national HES APC counts of 4-character diagnoses, FY2016-17 (the 5th edition's first
  year in force, 1 April 2016) to FY2023-24: codes HES accepted that the WHO list lacks, as
  the NHS edition keeps some categories whole (I48X, W19X): added with the counts' titles.
  Junk rows (`NULL`, bare 3-character codes) are left out.
Any other code is in no list we hold (the rule says `code_not_in_reference`, a warning).
"""

import csv
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXTERNAL = REPO.parent / "shared" / "external" / "icd10"
OUT = Path(__file__).with_name("icd10_codes.csv")
EDITION = "ICD-10 5th edition"
HES_CODE = re.compile(r"[A-Z]\d{2}[0-9X]")


def dotted(code: str) -> str:
    return code[:3] if code.endswith("X") else f"{code[:3]}.{code[3]}"


def coding19() -> tuple[dict[str, str], dict[str, str]]:
    """The codes, and every 3-character category's title."""
    codes: dict[str, str] = {}
    categories: dict[str, str] = {}
    with (EXTERNAL / "ICD10.coding19.tsv").open(newline="") as f:
        for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            code, title = row["coding"], row["meaning"].split(" ", 1)[1]
            if re.fullmatch(r"[A-Z]\d{2}", code):
                categories[code] = title
                if row["selectable"] == "Y":
                    codes[code + "X"] = title
            elif re.fullmatch(r"[A-Z]\d{3}", code):
                codes[code] = title
            elif re.fullmatch(r"[A-Z]\d{2}[0-9X]\d", code):  # I7000, M45X0
                codes.setdefault(code[:4], title)  # the 4-character row, where held, first
    return codes, categories


def counted_since_2016() -> dict[str, str]:
    counted: dict[str, str] = {}
    name = "icd10_usage_hes_apc_fy2012-13_to_fy2023-24.csv"
    with (EXTERNAL / name).open(newline="") as f:
        for row in csv.DictReader(f):
            if row["start_date"] >= "2016-04-01" and HES_CODE.fullmatch(row["icd10_code"]):
                counted[row["icd10_code"]] = row["description"]  # the latest year's title
    return counted


def main(out: Path = OUT) -> int:
    """Write the list to `out` (by default data/reference/icd10_codes.csv)."""
    if not EXTERNAL.is_dir():
        print(f"{EXTERNAL}: not found (the shared folder beside the repository)", file=sys.stderr)
        return 2
    codes, categories = coding19()
    for code, title in counted_since_2016().items():
        if code not in codes:  # titled by the counts, else by its category (W19X: W19)
            codes[code] = title or categories.get(code[:3], "")
    with out.open("w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["edition", "code", "dotted", "title"])
        for code in sorted(codes):
            writer.writerow([EDITION, code, dotted(code), codes[code]])
    return 0


if __name__ == "__main__":
    sys.exit(main(*[Path(arg) for arg in sys.argv[1:2]]))
