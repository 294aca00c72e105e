"""report.html opened in real headless Chromium (Debian's package, installed if missing):
at 1280 and 390 px it fits the screen and renders (the screenshot is not blank) with no
console errors; printed, its pages are A4 and none ends with a heading; it runs no data as
code."""

import os
import re
import shutil
import struct
import subprocess
import zlib
from html import unescape
from pathlib import Path

import pytest

from flows.audit import audit_run
from liver_audit.config import default_settings
from tests.conftest import SAMPLE
from tests.flows.test_standing_position import redelivery

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


@pytest.fixture(scope="module")
def report(prefect_harness, tmp_path_factory) -> Path:
    """The report of a second run (one episode re-coded), so every section has rows: the
    position, what changed, providers, quarters, the open findings."""
    folder = tmp_path_factory.mktemp("report")
    settings = default_settings(warehouse=str(folder / "warehouse.duckdb"),
                                reports=str(folder / "reports"))  # fmt: skip
    audit_run(
        settings, extracts=[str(SAMPLE / "episodes.csv")], theatre=str(SAMPLE / "theatre.csv")
    )
    summary = audit_run(settings, extracts=[str(redelivery(folder))])
    return Path(summary["out_dir"]) / "report.html"


def chromium_run(chromium: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def framed(report: Path, width: int, folder: Path) -> Path:
    """A test page holding the report in a frame `width` px wide (headless Chromium lays a
    window out no narrower than 500 px: the frame is the phone's viewport), whose script
    writes down how wide the report's page is laid out (wider than the frame: the page
    scrolls sideways, which a table must not make it do)."""
    page = folder / f"framed-{width}.html"
    page.write_text(f"""<!doctype html><html><body style="margin:0">
<iframe id="r" src="{report.as_uri()}" style="width:{width}px;height:2400px;border:0"></iframe>
<pre id="out"></pre><script>
document.getElementById("r").onload = () => {{
  const doc = document.getElementById("r").contentDocument;
  document.getElementById("out").textContent = "laid-out-width=" + doc.documentElement.scrollWidth;
}};
</script></body></html>""")
    return page


@pytest.mark.parametrize("width", [1280, 390])
def test_the_report_fits_the_screen_and_renders(report, chromium, tmp_path, width):
    """At a desktop's 1280 px and a phone's 390 px: the page never scrolls sideways (wide
    tables scroll within themselves), no console error, and the screenshot is not blank."""
    page = framed(report, width, tmp_path)
    flags = ["--allow-file-access-from-files", "--virtual-time-budget=10000"]
    dom = chromium_run(chromium, tmp_path / "profile", *flags, "--dump-dom", page.as_uri())
    (laid_out,) = re.findall(r"laid-out-width=(\d+)", dom.stdout)
    assert int(laid_out) <= width, f"the page is {laid_out} px wide in a {width} px screen"
    console = [line for line in dom.stderr.splitlines() if "CONSOLE" in line]
    assert console == []
    screenshot = tmp_path / f"report-{width}.png"
    shot = chromium_run(chromium, tmp_path / "profile", *flags,
                        f"--window-size={max(width, 500)},1600", f"--screenshot={screenshot}",
                        page.as_uri())  # fmt: skip
    assert shot.returncode == 0, shot.stderr[-2000:]
    assert len(set(png_pixels(screenshot.read_bytes()))) > 50, "the screenshot is blank"


def test_the_report_prints_on_a4_with_no_heading_last_on_a_page(report, chromium, tmp_path):
    from pypdf import PdfReader

    pdf = tmp_path / "report.pdf"
    printed = chromium_run(chromium, tmp_path / "profile", "--no-pdf-header-footer",
                           f"--print-to-pdf={pdf}", report.as_uri())  # fmt: skip
    assert printed.returncode == 0, printed.stderr[-2000:]
    pages = PdfReader(pdf).pages
    assert len(pages) >= 3
    for page in pages:  # A4: 210 x 297 mm, 595 x 842 points
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)
    html = report.read_text()
    headings = {" ".join(re.sub(r"<[^>]+>", "", h).split())
                for h in re.findall(r"<h[123][^>]*>(.*?)</h[123]>", html, re.S)}  # fmt: skip
    headings = {unescape(h) for h in headings}
    assert len(headings) > 10
    for number, page in enumerate(pages[:-1], start=1):
        text = " ".join(page.extract_text().split())
        last = [h for h in headings if text.endswith(h)]
        assert not last, f"page {number} ends with the heading {last}"


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
