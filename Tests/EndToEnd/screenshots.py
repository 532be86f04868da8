#!/usr/bin/env python3
"""Screenshots of the views issue 16 is about, for a before/after comparison, with whatever binary it is given; checks
nothing (test_pages.py checks). `python3 Tests/EndToEnd/screenshots.py --blindspot BINARY --out DIR` (see take())."""
import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from blindspot_harness.browser import WAIT_S, Browser  # noqa: E402
from blindspot_harness.images import big_jpeg  # noqa: E402
from blindspot_harness.paths import default_shared  # noqa: E402
from blindspot_harness.server import Server, serving  # noqa: E402


def take(arguments):
    """Starts `blindspot serve` with a fresh --data folder and writes to --out:
      item1-probe-1280.png           /examples/1 (a miss for the model), Probe: the summary line and the table's first rows
      item2-explain-1280.png         /examples/1, Explain (superpixels), the heatmap and its caption
      item4-example99-1280.png, item4-nope-1280.png   a broken example link and an unknown path, as a browser shows them
      item6-blindspots-1280.png      /blindspots on a fresh server
      item8-big-upload-390.png       a 10000×6000 JPEG chosen and sent at 390 px: its error or the scaling message (viewport)
      item8-big-upload-390-full.png  the same, whole page (where the message is)
      item9-api-1280.png, item9-api-390.png   /api, whole page
      item10-header-390.png          / at 390 px, the top of the screen
      item10-example15-390.png       /examples/15 at 390 px, whole page
      item10-model-switch-1280.png   /examples/1 classified, then another model chosen in the menu
    """
    from selenium.webdriver.support.ui import Select, WebDriverWait

    out = Path(arguments.out)
    out.mkdir(parents=True, exist_ok=True)
    shared = Path(arguments.shared)
    server = Server(arguments.blindspot, out / "server.log", arguments.model, examples=shared / "seed-examples")
    browser = None
    with serving(server), tempfile.TemporaryDirectory(prefix="blindspot-shots-") as scratch:
        try:
            base = server.base_url
            browser = Browser()
            driver = browser.driver
            wait = WebDriverWait(driver, WAIT_S * 3)
            find = browser.find
            result_or_error = lambda _: browser.find_all("#result .top-label") or find("#error").text.strip()

            # Item 6: the catalog of a fresh server.
            browser.open(f"{base}/blindspots")
            browser.screenshot(out / "item6-blindspots-1280.png")

            # Item 9: /api at both widths.
            browser.open(f"{base}/api")
            browser.screenshot(out / "item9-api-1280.png")

            # Item 10: the model menu changed after an answer (the page needs two models).
            browser.open(f"{base}/examples/1")
            wait.until(result_or_error)
            options = [option.get_attribute("value") for option in browser.find_all("#model-select option")]
            others = [name for name in options if name != find("#model-select").get_attribute("value")]
            if others:
                Select(find("#model-select")).select_by_value(others[0])
                time.sleep(3)
            driver.execute_script("document.getElementById('result-title').scrollIntoView()")
            browser.screenshot(out / "item10-model-switch-1280.png", whole_page=False)

            # Item 2: the heatmap of example 1.
            browser.open(f"{base}/examples/1")
            wait.until(result_or_error)
            Select(find("#explain-method")).select_by_value("superpixels")
            find("#explain").click()
            wait.until(lambda _: find("#explain-output").get_attribute("aria-busy") == "false")
            driver.execute_script("document.getElementById('explain-section').scrollIntoView()")
            browser.screenshot(out / "item2-explain-1280.png", whole_page=False)

            # Item 1: the probe of example 1 with a model that already gets it wrong (EfficientNet-Lite1: cassette player).
            browser.open(f"{base}/examples/1")
            wait.until(result_or_error)
            if "efficientnet_lite1" in [option.get_attribute("value") for option in browser.find_all("#model-select option")]:
                Select(find("#model-select")).select_by_value("efficientnet_lite1")
                time.sleep(3)
            find("#probe").click()
            wait.until(lambda _: browser.find_all("#probe-output .probe-summary") or find("#probe-error").text.strip())
            driver.execute_script("document.getElementById('probe-title').scrollIntoView()")
            browser.screenshot(out / "item1-probe-1280.png", whole_page=False)

            # Item 4: broken links as a browser shows them.
            browser.open(f"{base}/examples/99")
            browser.screenshot(out / "item4-example99-1280.png", whole_page=False)
            browser.open(f"{base}/nope")
            browser.screenshot(out / "item4-nope-1280.png", whole_page=False)

            # Phone width.
            browser.set_viewport(390, 844, mobile=True)
            browser.open(f"{base}/api")
            browser.screenshot(out / "item9-api-390.png")
            browser.open(f"{base}/")
            time.sleep(0.5)
            browser.screenshot(out / "item10-header-390.png", whole_page=False)
            browser.open(f"{base}/examples/15")
            wait.until(result_or_error)
            browser.screenshot(out / "item10-example15-390.png")

            # Item 8: a photo over the pixel limit, at phone width.
            big = big_jpeg(scratch)
            browser.open(f"{base}/")
            find("#file-input").send_keys(str(big))
            wait.until(lambda _: find("#submit").is_enabled() or find("#error").text.strip())
            if find("#submit").is_enabled():
                driver.execute_script("document.getElementById('submit').scrollIntoView({block: 'center'})")
                find("#submit").click()
                wait.until(result_or_error)
            # The message the page gave: the server's error, or what the page did with the photo.
            driver.execute_script("const error = document.getElementById('error');"
                                  "(error.textContent.trim() ? error : document.getElementById('image-info')).scrollIntoView({block: 'start'})")
            time.sleep(0.5)
            browser.screenshot(out / "item8-big-upload-390.png", whole_page=False)
            browser.screenshot(out / "item8-big-upload-390-full.png")
        finally:
            if browser:
                browser.quit()
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--blindspot", default=".build/release/blindspot", help="the blindspot binary to run")
    parser.add_argument("--shared", default=str(default_shared()), help="the shared data folder (default: $BLINDSPOT_SHARED or ../shared)")
    parser.add_argument("--out", default=".build/test-output/after", help="where the screenshots and the server log go")
    parser.add_argument("--model", default="efficientnet_lite0", help="the model the server loads")
    return take(parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
