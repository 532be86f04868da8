#!/usr/bin/env python3
"""Screenshots of the views issue 16 is about, for a before/after comparison: takes them with whatever binary it is
given and checks nothing (demo_e2e.py checks). Starts `blindspot serve` with a fresh --data folder.

    python3 Tests/EndToEnd/screenshots.py --blindspot /work/before-bin/blindspot --shared ../shared --out .build/test-output/before

Files written to --out:
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
import base64
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from demo_e2e import RESULT_TIMEOUT_S, Browser, Server, big_jpeg, script_arguments

def viewport_shot(browser, path):
    data = browser.driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png"})["data"]
    Path(path).write_bytes(base64.b64decode(data))
    print(f"screenshot: {path}", flush=True)


def take(arguments):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    out = Path(arguments.out)
    out.mkdir(parents=True, exist_ok=True)
    shared = Path(arguments.shared)
    server = Server(arguments.blindspot, shared, arguments.model, out)
    browser = None
    scratch = tempfile.mkdtemp(prefix="blindspot-shots-")
    try:
        server.wait_until_ready()
        base = server.base_url
        browser = Browser()
        driver = browser.driver
        wait = WebDriverWait(driver, RESULT_TIMEOUT_S * 3)
        find = lambda selector: driver.find_element(By.CSS_SELECTOR, selector)
        result_or_error = lambda _: driver.find_elements(By.CSS_SELECTOR, "#result .top-label") or find("#error").text.strip()

        # Item 6: the catalog of a fresh server.
        browser.open(f"{base}/blindspots")
        browser.screenshot(out / "item6-blindspots-1280.png")

        # Item 9: /api at both widths.
        browser.open(f"{base}/api")
        browser.screenshot(out / "item9-api-1280.png")

        # Item 10: the model menu changed after an answer (the page needs two models).
        browser.open(f"{base}/examples/1")
        wait.until(result_or_error)
        options = [option.get_attribute("value") for option in driver.find_elements(By.CSS_SELECTOR, "#model-select option")]
        others = [name for name in options if name != find("#model-select").get_attribute("value")]
        if others:
            Select(find("#model-select")).select_by_value(others[0])
            time.sleep(3)
        driver.execute_script("document.getElementById('result-title').scrollIntoView()")
        viewport_shot(browser, out / "item10-model-switch-1280.png")

        # Item 2: the heatmap of example 1.
        browser.open(f"{base}/examples/1")
        wait.until(result_or_error)
        Select(find("#explain-method")).select_by_value("superpixels")
        find("#explain").click()
        wait.until(lambda _: find("#explain-output").get_attribute("aria-busy") == "false")
        driver.execute_script("document.getElementById('explain-section').scrollIntoView()")
        viewport_shot(browser, out / "item2-explain-1280.png")

        # Item 1: the probe of example 1 with a model that already gets it wrong (EfficientNet-Lite1: cassette player).
        browser.open(f"{base}/examples/1")
        wait.until(result_or_error)
        if "efficientnet_lite1" in [option.get_attribute("value") for option in driver.find_elements(By.CSS_SELECTOR, "#model-select option")]:
            Select(find("#model-select")).select_by_value("efficientnet_lite1")
            time.sleep(3)
        find("#probe").click()
        wait.until(lambda _: driver.find_elements(By.CSS_SELECTOR, "#probe-output .probe-summary") or find("#probe-error").text.strip())
        driver.execute_script("document.getElementById('probe-title').scrollIntoView()")
        viewport_shot(browser, out / "item1-probe-1280.png")

        # Item 4: broken links as a browser shows them.
        browser.open(f"{base}/examples/99")
        viewport_shot(browser, out / "item4-example99-1280.png")
        browser.open(f"{base}/nope")
        viewport_shot(browser, out / "item4-nope-1280.png")

        # Phone width.
        browser.set_viewport(390, 844, mobile=True)
        browser.open(f"{base}/api")
        browser.screenshot(out / "item9-api-390.png")
        browser.open(f"{base}/")
        time.sleep(0.5)
        viewport_shot(browser, out / "item10-header-390.png")
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
        viewport_shot(browser, out / "item8-big-upload-390.png")
        browser.screenshot(out / "item8-big-upload-390-full.png")
    finally:
        if browser:
            browser.quit()
        server.stop()
        subprocess.run(["rm", "-rf", scratch], check=False)
    return 0


def main():
    parser = script_arguments(__doc__, ".build/test-output/after")
    arguments = parser.parse_args()
    return take(arguments)


if __name__ == "__main__":
    sys.exit(main())
