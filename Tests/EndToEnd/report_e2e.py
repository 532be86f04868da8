#!/usr/bin/env python3
"""End-to-end test of `blindspot report`: files the post's examples in a fresh catalog, makes the report with one
model and a short probe, and opens DIR/index.html (file://) in headless Chromium with Selenium.

Checks that the page has no script, that the browser logged no errors, that every category of the examples has its
heading and the model is named, that there is a picture and a heatmap per report and every picture decoded
(naturalWidth > 0), that the page prints to PDF, and that report.md has the categories and every picture it shows.
A screenshot and the PDF go to --out.

    python3 Tests/EndToEnd/report_e2e.py --blindspot .build/release/blindspot --shared ../shared --out .build/test-output/e2e

Needs what demo_e2e.py needs (selenium, /usr/bin/chromium, /usr/bin/chromedriver) and uses its helpers.
"""
import base64
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from demo_e2e import Browser, CheckFailed, check, passed, run_checks, script_arguments

PROBE_FAMILIES = "rotate,flip"
COMMAND_TIMEOUT_S = 900


def parse_arguments():
    return script_arguments(__doc__, ".build/test-output/e2e", "where the screenshot and the PDF go").parse_args()


def blindspot(binary, arguments, what):
    """Runs the binary; a non-zero exit fails the test with its standard error."""
    completed = subprocess.run([binary, *arguments], capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S)
    if completed.returncode != 0:
        raise CheckFailed(f"{what}: exit status {completed.returncode}\n{completed.stderr[-4000:]}")
    passed(what)
    return completed


def run(arguments, examples_folder, out):
    from selenium.webdriver.common.by import By

    examples = json.loads((examples_folder / "examples.json").read_text())["examples"]
    titles = list(dict.fromkeys(example["title"] for example in examples))
    work = Path(tempfile.mkdtemp(prefix="blindspot-report-e2e-"))
    try:
        data, report = work / "data", work / "report"
        blindspot(arguments.blindspot, ["catalog", "import-examples", str(examples_folder), "--data", str(data)],
                  f"the {len(examples)} examples are filed in a fresh catalog")
        blindspot(arguments.blindspot, ["report", "--catalog", "--out", str(report), "--data", str(data), "--model", arguments.model,
                                        "--probe-families", PROBE_FAMILIES], "blindspot report --catalog writes the report")
        page = report / "index.html"
        check("<script" not in page.read_text(), "the page has no script")

        browser = Browser()
        try:
            browser.open(page.resolve().as_uri())
            driver = browser.driver
            headings = [heading.text for heading in driver.find_elements(By.CSS_SELECTOR, "h2")]
            for title in titles:
                check(title in headings, f"the category {title!r} has its heading")
            answers = [cell.text for cell in driver.find_elements(By.CSS_SELECTOR, ".report-table th[scope=row]")]
            check(answers.count(arguments.model) >= len(examples), f"{arguments.model} answers for each of the {len(examples)} reports")
            pictures = driver.execute_script(
                "return Array.from(document.images).map(image => ({figure: image.closest('figure').className,"
                " complete: image.complete, width: image.naturalWidth}))")
            for kind in ("entry-image", "entry-heatmap"):
                count = sum(1 for picture in pictures if picture["figure"] == kind)
                check(count == len(examples), f"one {kind} per report ({count})")
            broken = [picture for picture in pictures if not picture["complete"] or picture["width"] <= 0]
            check(not broken, f"all {len(pictures)} pictures decoded (naturalWidth > 0)")
            driver.save_screenshot(str(out / "report.png"))
            print(f"screenshot: {out / 'report.png'}", flush=True)

            pdf = base64.b64decode(driver.execute_cdp_cmd("Page.printToPDF", {"printBackground": True})["data"])
            (out / "report.pdf").write_bytes(pdf)
            pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
            check(pdf.startswith(b"%PDF") and pages >= 2, f"the page prints to PDF ({pages} pages, {out / 'report.pdf'})")

            browser.collect_console()
            severe = [entry for entry in browser.console if entry.get("level") == "SEVERE"]
            check(not severe, "the browser console has no SEVERE entries"
                  + ("" if not severe else ":\n" + "\n".join(entry["message"] for entry in severe)))
        finally:
            browser.quit()

        markdown = (report / "report.md").read_text()
        for title in titles:
            check(f"\n## {title}\n" in markdown, f"report.md has the category {title!r}")
        shown = re.findall(r"\]\((images/[^)]+)\)", markdown)
        check(len(shown) == 2 * len(examples) and all((report / path).is_file() for path in shown),
              f"report.md shows {len(shown)} pictures, all written beside it")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    arguments = parse_arguments()
    examples_folder = Path(arguments.shared) / "seed-examples"
    if not (examples_folder / "examples.json").is_file():
        print(f"SKIPPED: {examples_folder / 'examples.json'} is absent (set BLINDSPOT_SHARED or --shared)", flush=True)
        return 0
    out = Path(arguments.out)
    out.mkdir(parents=True, exist_ok=True)
    return run_checks(lambda: run(arguments, examples_folder, out))


if __name__ == "__main__":
    sys.exit(main())
