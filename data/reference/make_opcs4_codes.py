"""Make opcs4_codes.csv: every OPCS-4 category and code of each version we can know here,
one row per (version, code), with the version's title. Run from the repository, with the
project's shared folder beside it: `.venv/bin/python data/reference/make_opcs4_codes.py`.
tests/unit/test_reference_data.py makes it again and compares.

- OPCS-4.9: UK Biobank data-coding 240 (OPCS-4.9 content), the rows whose code is a letter
  and 2-3 digits, `meaning` split into dotted code and title.
- OPCS-4.10: 4.9, plus the codes first seen in the FY2023-24 national HES counts
  (opcs410_additions_observed.csv: a lower bound, the additions somebody used), minus the
  codes 4.10 retired (NCCS 2026 PRule 6); titles as the FY2023-24 counts give them, where
  they give one, else 4.9's.
- OPCS-4.11, partial: 4.10 minus the codes 4.11 retired (NCCS 2026 PRule 6: J17, J53, J74,
  Y76.1-Y76.4, Y76.6), plus the categories and codes NCCS 2026 names as new (J79, Y85,
  Y85.5: titles not held here, left empty), with the titles NCCS 2026 gives for 4.11
  (Y71.4, Y72.1, Y75.3). Any other 4.11 code is in no list we hold.
"""

import csv
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXTERNAL = REPO.parent / "shared" / "external" / "opcs4"
OUT = Path(__file__).with_name("opcs4_codes.csv")

# NCCS 2026 PRule 6, pp.23-24 (domain.md section 0): codes retired, by the version that
# retired them; a category retires its codes.
RETIRED = {
    "OPCS-4.10": ["G802", "P153"],
    "OPCS-4.11": ["J17", "J53", "J74", "Y761", "Y762", "Y763", "Y764", "Y766"],
}
# NCCS 2026 (PCSY17, PRule 6): new in 4.11; their titles are not held here.
NEW_IN_411 = ["J79", "Y85", "Y855"]
# NCCS 2026 section 0: titles 4.11 changed.
TITLES_411 = {
    "Y714": "Failed percutaneous endoscopic approach converted to open NEC",
    "Y721": "Failed robotic assisted percutaneous endoscopic approach converted to open",
    "Y753": "Robotic assisted laparoscopic approach to abdominal cavity",
}
CODE = re.compile(r"[A-Z]\d{2,3}")


def dotted(code: str) -> str:
    return code if len(code) == 3 else f"{code[:3]}.{code[3:]}"


def retired(code: str, version: str) -> bool:
    return any(code == gone or code[:3] == gone for gone in RETIRED.get(version, []))


def opcs49() -> dict[str, str]:
    with (EXTERNAL / "OPCS4.coding240.tsv").open(newline="") as f:
        rows = csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        return {
            row["coding"]: row["meaning"].split(" ", 1)[1]
            for row in rows
            if CODE.fullmatch(row["coding"])
        }


def titles_2023_24() -> dict[str, str]:
    name = "opcs4_usage_hes_apc_fy2012-13_to_fy2023-24.csv"
    with (EXTERNAL / name).open(newline="") as f:
        return {
            row["opcs4_code"]: row["description"]
            for row in csv.DictReader(f)
            if row["start_date"] == "2023-04-01" and row["description"]
        }


def additions_410() -> dict[str, str]:
    with (EXTERNAL / "opcs410_additions_observed.csv").open(newline="") as f:
        return {row["code"]: row["title"] for row in csv.DictReader(f)}


def versions() -> dict[str, dict[str, str]]:
    v49 = opcs49()
    counted = titles_2023_24()
    v410 = {code: counted.get(code, title) for code, title in v49.items()} | additions_410()
    v410 = {code: title for code, title in v410.items() if not retired(code, "OPCS-4.10")}
    v411 = {code: TITLES_411.get(code, title) for code, title in v410.items()
            if not retired(code, "OPCS-4.11")} | dict.fromkeys(NEW_IN_411, "")  # fmt: skip
    return {"OPCS-4.9": v49, "OPCS-4.10": v410, "OPCS-4.11": v411}


def main(out: Path = OUT) -> int:
    """Write the versions to `out` (by default data/reference/opcs4_codes.csv)."""
    if not EXTERNAL.is_dir():
        print(f"{EXTERNAL}: not found (the shared folder beside the repository)", file=sys.stderr)
        return 2
    with out.open("w", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(["version", "code", "dotted", "title"])
        for version, codes in versions().items():
            for code in sorted(codes):
                out.writerow([version, code, dotted(code), codes[code]])
    return 0


if __name__ == "__main__":
    sys.exit(main(*[Path(arg) for arg in sys.argv[1:2]]))
