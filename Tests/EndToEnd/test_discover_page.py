"""`blindspot discover --out page.html` on the sample photos: the page (file://, in headless Chromium) has a card per
slice, its thumbnails decode, it runs no script and logs nothing severe; the JSON of the same run agrees with it."""
import json
import subprocess

import pytest

COMMAND_TIMEOUT_S = 900


@pytest.fixture(scope="module")
def discovered(blindspot, shared, option, tmp_path_factory):
    """The page and the JSON of one discover run each (same seed, so the same slices)."""
    work = tmp_path_factory.mktemp("discover")
    outputs = {}
    for name in ("page.html", "results.json"):
        completed = subprocess.run([str(blindspot), "discover", str(shared / "imagenet-sample"), "--model", option.model,
                                    "--min-size", "5", "--seed", "3", "--out", str(work / name)],
                                   capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S)
        assert completed.returncode == 0, f"blindspot discover: exit status {completed.returncode}\n{completed.stderr[-4000:]}"
        outputs[name] = work / name
    return outputs["page.html"], json.loads(outputs["results.json"].read_text())


def test_page_has_no_script(discovered):
    page, _ = discovered
    assert "<script" not in page.read_text(), "the page has no script"


def test_page_in_a_browser(browser, discovered, option, out):
    page, results = discovered
    browser.open(page.resolve().as_uri())
    headings = [heading.text for heading in browser.find_all("h2")]
    assert option.model in headings, f"the model has its section ({headings})"
    slices = results["models"][0]["slices"]
    cards = browser.find_all("article.discovery-slice")
    assert len(cards) == len(slices) > 0, f"one card per slice ({len(cards)} cards, {len(slices)} slices)"
    rows = browser.find_all(".report-table th[scope=row]")
    assert [row.text for row in rows][:len(slices)] == [s["id"] for s in slices], "the summary lists the slices in order"
    pictures = browser.js("return Array.from(document.images).map(image => ({complete: image.complete, width: image.naturalWidth}))")
    assert pictures and all(p["complete"] and p["width"] > 0 for p in pictures), f"all {len(pictures)} thumbnails decoded"
    browser.screenshot(out / "discover.png", whole_page=False)


def test_console_has_no_severe_entries(browser, discovered):
    severe = browser.severe_console_entries()
    assert not severe, "the browser console has no SEVERE entries:\n" + "\n".join(severe)
