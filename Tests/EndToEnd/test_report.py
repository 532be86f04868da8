"""`blindspot report`: files the post's examples in a fresh catalog, makes the report with one model and a short
probe, and checks index.html (file://, in headless Chromium), its PDF print and report.md."""
import base64
import json
import re
import subprocess

import pytest

PROBE_FAMILIES = "rotate,flip"
COMMAND_TIMEOUT_S = 900


def run_blindspot(binary, arguments, what):
    """Runs the binary; a non-zero exit fails with its standard error."""
    completed = subprocess.run([str(binary), *arguments], capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S)
    assert completed.returncode == 0, f"{what}: exit status {completed.returncode}\n{completed.stderr[-4000:]}"


@pytest.fixture(scope="module")
def examples(shared):
    return json.loads((shared / "seed-examples" / "examples.json").read_text())["examples"]


@pytest.fixture(scope="module")
def titles(examples):
    return list(dict.fromkeys(example["title"] for example in examples))


@pytest.fixture(scope="module")
def report(blindspot, shared, option, examples, tmp_path_factory):
    """The folder `blindspot report --catalog` wrote for a fresh catalog of the post's examples."""
    work = tmp_path_factory.mktemp("report")
    data, report = work / "data", work / "report"
    run_blindspot(blindspot, ["catalog", "import-examples", str(shared / "seed-examples"), "--data", str(data)],
                  f"filing the {len(examples)} examples in a fresh catalog")
    run_blindspot(blindspot, ["report", "--catalog", "--out", str(report), "--data", str(data), "--model", option.model,
                              "--probe-families", PROBE_FAMILIES], "blindspot report --catalog")
    return report


def test_page_has_no_script(report):
    assert "<script" not in (report / "index.html").read_text(), "the page has no script"


def test_page_in_a_browser(browser, report, option, examples, titles, out):
    browser.open((report / "index.html").resolve().as_uri())
    headings = [heading.text for heading in browser.find_all("h2")]
    missing = [title for title in titles if title not in headings]
    assert not missing, f"every category has its heading (missing: {missing})"
    answers = [cell.text for cell in browser.find_all(".report-table th[scope=row]")]
    assert answers.count(option.model) >= len(examples), f"{option.model} answers for each of the {len(examples)} reports"
    pictures = browser.js("return Array.from(document.images).map(image => ({figure: image.closest('figure').className,"
                          " complete: image.complete, width: image.naturalWidth}))")
    for kind in ("entry-image", "entry-heatmap"):
        count = sum(1 for picture in pictures if picture["figure"] == kind)
        assert count == len(examples), f"one {kind} per report ({count})"
    broken = [picture for picture in pictures if not picture["complete"] or picture["width"] <= 0]
    assert not broken, f"all {len(pictures)} pictures decoded (naturalWidth > 0)"
    browser.screenshot(out / "blindspot-report.png", whole_page=False)


def test_page_prints_to_pdf(browser, report, out):
    browser.open((report / "index.html").resolve().as_uri())
    pdf = base64.b64decode(browser.driver.execute_cdp_cmd("Page.printToPDF", {"printBackground": True})["data"])
    (out / "report.pdf").write_bytes(pdf)
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert pdf.startswith(b"%PDF") and pages >= 2, f"the page prints to PDF ({pages} pages, {out / 'report.pdf'})"


def test_console_has_no_severe_entries(browser, report):
    """Of the page's two loads above."""
    severe = browser.severe_console_entries()
    assert not severe, "the browser console has no SEVERE entries:\n" + "\n".join(severe)


def test_markdown_has_the_categories_and_its_pictures(report, examples, titles):
    markdown = (report / "report.md").read_text()
    missing = [title for title in titles if f"\n## {title}\n" not in markdown]
    assert not missing, f"report.md has every category (missing: {missing})"
    shown = re.findall(r"\]\((images/[^)]+)\)", markdown)
    assert len(shown) == 2 * len(examples) and all((report / path).is_file() for path in shown), \
        f"report.md shows {len(shown)} pictures, all written beside it"
