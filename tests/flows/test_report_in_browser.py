"""report.html opened in real headless Chromium (Debian's package, installed if missing):
it renders (the screenshot is not blank), logs no console errors, and runs no data as code."""

import os
import re
import shutil
import struct
import subprocess
import zlib

import pytest

from flows.audit import audit_run
from liver_audit.config import default_settings
from tests.conftest import SAMPLE

pytestmark = pytest.mark.slow

# Offline, quiet headless Chromium (../shared/docs/prefect-here.md, "UI screenshot").
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1", "--enable-logging=stderr",
    "--v=0", "--window-size=1200,1600",
]  # fmt: skip


@pytest.fixture(scope="session")
def chromium() -> str:
    path = shutil.which("chromium")
    if path is None:  # the test set-up installs it (root on these machines)
        subprocess.run(["apt-get", "update", "-qq"], check=True, capture_output=True)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "chromium"],
            check=True, capture_output=True, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )  # fmt: skip
        path = shutil.which("chromium")
    assert path, "chromium could not be installed"
    return path


def png_pixels(png: bytes) -> bytes:
    """The decompressed image data of a PNG (filter bytes included): enough to tell blank."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    position, data = 8, b""
    while position < len(png):
        (length,) = struct.unpack(">I", png[position : position + 4])
        kind = png[position + 4 : position + 8]
        if kind == b"IDAT":
            data += png[position + 8 : position + 8 + length]
        position += 12 + length
    return zlib.decompress(data)


def test_report_renders_in_chromium_without_console_errors(prefect_harness, chromium, tmp_path):
    out = tmp_path / "out"
    audit_run(
        default_settings(warehouse=str(tmp_path / "warehouse.duckdb")),
        extracts=[str(SAMPLE / "episodes.csv")],
        theatre=str(SAMPLE / "theatre.csv"),
        out_dir=str(out),
    )
    screenshot = tmp_path / "report.png"
    result = subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
         f"--screenshot={screenshot}", (out / "report.html").as_uri()],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    pixels = png_pixels(screenshot.read_bytes())
    assert len(set(pixels)) > 50, "the screenshot is blank"
    console = [line for line in result.stderr.splitlines() if "CONSOLE" in line]
    assert console == []
    # printable: Chromium's print path lays it out on A4/Letter pages
    pdf = tmp_path / "report.pdf"
    subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
         "--no-pdf-header-footer", f"--print-to-pdf={pdf}", (out / "report.html").as_uri()],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    pages = re.findall(rb"/Type\s*/Page[^s]", pdf.read_bytes())
    assert len(pages) >= 2, "the printed report has no pages"


def test_a_provider_code_like_a_script_reaches_the_page_escaped(
    prefect_harness, chromium, tmp_path
):
    """A hostile value in the data is shown as text: the DOM holds no script element."""
    extract = tmp_path / "episodes.csv"
    extract.write_text(
        (SAMPLE / "episodes.csv").read_text().replace("|RXA|", "|<script>x</script>|")
    )
    out = tmp_path / "out"
    audit_run(
        default_settings(warehouse=str(tmp_path / "warehouse.duckdb")),
        extracts=[str(extract)],
        out_dir=str(out),
    )
    html = (out / "report.html").read_text()
    assert "&lt;SCRIPT&gt;X&lt;/SCRIPT&gt;" in html  # provider codes are upper-cased
    dom = subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom",
         (out / "report.html").as_uri()],
        capture_output=True, text=True, timeout=120,
    ).stdout  # fmt: skip
    assert "<script" not in dom.lower() and "&lt;SCRIPT&gt;X&lt;/SCRIPT&gt;" in dom
