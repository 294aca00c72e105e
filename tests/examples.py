"""How many examples a property test tries: its own number times LIVER_AUDIT_TEST_EXAMPLES
(default 1). `make test` sets 0.25 to stay under 4 minutes; `make test-all` (CI) runs every
property test in full."""

import os


def examples(full: int) -> int:
    return max(5, round(full * float(os.environ.get("LIVER_AUDIT_TEST_EXAMPLES", "1"))))
