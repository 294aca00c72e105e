"""liver-audit: audits OPCS-4 coding of liver resections (NICE IPG135) in HES APC extracts."""

from pathlib import Path

__version__ = "0.1.0"

# The repo root: sql/, data/ and schemas/ sit beside this package (installed editable).
ROOT = Path(__file__).resolve().parent.parent
