#!/usr/bin/env python3
"""End-to-end test of the web demo: starts `blindspot serve`, drives the page in headless Chromium with Selenium.

First checks the API against /openapi.json (api_contract.py). Then checks that an uploaded photo is classified as the API classifies the same bytes, that /examples/1 classifies the
post's upside-down car by itself and shows the post's answer and the expected class's rank, that flagging it files a
pending report in the catalog with the note verbatim (and that flagging it again confirms that report), that Probe
shows the server's report (a row per transformation, charts, thumbnails) for the example's expected classes and that
Explain shows a heatmap per model, that the page fits a phone, and that the browser logged no errors. Then, at 1280
and 390 px (run_pages): no page scrolls sideways, the header is one line on a phone, the answer comes right after the
image and an error is in view, the expected class is ranked on Submit, explained on request and starts Flag's class,
"husky" gets suggestions, a model switch classifies again, the page says the post's Inception v3 is missing and how to
add it, a 10000×6000 photo is scaled in the browser and classified, /api documents every operation of /openapi.json
before its error table, and a heatmap's legend is the server's caption. The server loads --model and --second-model.
Screenshots go to --out.

    python3 Tests/EndToEnd/demo_e2e.py --blindspot .build/release/blindspot --shared ../shared --out .build/test-output/e2e

Needs the pip package `selenium`, /usr/bin/chromium and /usr/bin/chromedriver; nothing is downloaded.
`--base-url URL` checks a server that is already running instead of starting one (its catalog must not hold a
report of example 1's image as a beach wagon yet).
The helpers here (Server, Browser, check, api) are also catalog_e2e.py's.
"""
import argparse
import json
import mimetypes
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from api_contract import check_contract

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
READY_TIMEOUT_S = 120
RESULT_TIMEOUT_S = 60
EXAMPLE_ID = 1
EXAMPLE_POST_ANSWER = "analog clock"
# Not "beach wagon": a fresh server files the example itself under its first expected class, which a flag would only confirm.
FLAG_CLASS = "sports car"
FLAG_NOTE = 'Upside down, still a car. <script>alert(1)</script> & "quotes"'
FLAG_REPORTER = "End-to-end test"
# Example 1's category: picked in the dialog when the catalog has it, typed as a new category otherwise.
FLAG_CATEGORY = "upside-down-cars"
FLAG_CATEGORY_TITLE = "Upside down cars"
# Typed as the expected class of a probe, to see the server's error on the page (and the spaces arrive as spaces).
UNKNOWN_CLASS = "no such class"
# What the Swift runtime, its backtracer or the kernel's default handlers print when a process traps or crashes: none
# may appear in a server's output, whatever a request did.
CRASH_PATTERNS = ("Fatal error:", "Precondition failed", "Assertion failed", "*** Signal", "Current stack trace:",
                  "💣 Program crashed", "Thread 0 crashed", "Received signal", "Illegal instruction", "Segmentation fault")
LOG_TAIL_CHARACTERS = 4000


class CheckFailed(Exception):
    pass


def passed(message):
    print(f"PASS: {message}", flush=True)


def check(condition, message):
    if not condition:
        raise CheckFailed(message)
    passed(message)


class ServerCrashed(CheckFailed):
    """A server that exited by itself or printed a Swift runtime failure; the message ends with its output's tail."""


def crash_report(process, output, killed=False):
    """Why the server `process` that a test started did not survive, or None: it is no longer running (not counted
    when the test `killed` it on purpose), or `output` holds a Swift runtime failure or a crash report."""
    problems = []
    if not killed and process.poll() is not None:
        problems.append(f"exited by itself with status {process.returncode}")
    found = [pattern for pattern in CRASH_PATTERNS if pattern in output]
    if found:
        problems.append("its output holds " + ", ".join(repr(pattern) for pattern in found))
    return " and ".join(problems) or None


def check_survived(what, process, output, killed=False):
    """Fails, naming what crash_report found and showing the end of `output`, unless it found nothing. Server and
    durability_test.py's RestartableServer check through this."""
    problem = crash_report(process, output, killed)
    if problem:
        raise ServerCrashed(f"{what} (pid {process.pid}) {problem}; the end of its output:\n{output[-LOG_TAIL_CHARACTERS:]}")


def script_arguments(description, out, out_help="where screenshots and the server log go", shared=True):
    """The options every test script that starts `blindspot` takes (--shared only for those that read ../shared);
    each script adds its own and parses."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--blindspot", default=".build/release/blindspot", help="the blindspot binary to run")
    if shared:
        parser.add_argument("--shared", default=os.environ.get("BLINDSPOT_SHARED", "../shared"),
                            help="the shared data folder (default: $BLINDSPOT_SHARED or ../shared)")
    parser.add_argument("--out", default=out, help=out_help)
    parser.add_argument("--model", default="efficientnet_lite0", help="the model the server loads")
    return parser


def parse_arguments():
    parser = script_arguments(__doc__, ".build/test-output/e2e")
    parser.add_argument("--base-url", help="test this running server instead of starting one")
    parser.add_argument("--second-model", default="efficientnet_lite1",
                        help="a second model the server loads, for switching models on the page")
    return parser.parse_args()


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """`blindspot serve` on a free port with a fresh --data folder; its output goes to a log file. `environment`
    adds variables to this process's environment for the server; `arguments` are added to its command line."""

    def __init__(self, binary, shared, model, out, environment=None, arguments=()):
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.data = tempfile.mkdtemp(prefix="blindspot-e2e-data-")
        self.log_path = out / "server.log"
        self.log = open(self.log_path, "wb")
        command = [binary, "serve", "--host", "127.0.0.1", "--port", str(self.port), "--data", self.data,
                   "--examples", str(shared / "seed-examples"), "--models", model, *arguments]
        print("starting:", " ".join(command), flush=True)
        self.process = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT,
                                        env={**os.environ, **(environment or {})})

    def output(self):
        self.log.flush()
        return self.log_path.read_text(errors="replace")

    def check_survived(self):
        """Fails unless the process started here is still running and its output holds no Swift runtime failure."""
        check_survived("the server", self.process, self.output())
        passed(f"the server (pid {self.process.pid}) is still running and its output holds no Swift runtime failure")

    def wait_until_ready(self):
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise CheckFailed(f"the server exited with status {self.process.returncode}:\n{self.output()}")
            try:
                with urllib.request.urlopen(f"{self.base_url}/readyz", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.5)
        raise CheckFailed(f"/readyz did not answer 200 within {READY_TIMEOUT_S} s; server output:\n{self.output()}")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        shutil.rmtree(self.data, ignore_errors=True)


def wait_for_every_model(base_url):
    """Waits until every model the server offers is ready, so that its default model (the first ready of the best)
    no longer changes while the pages are checked."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    states = None
    while time.monotonic() < deadline:
        status, body = api(base_url, "/readyz")
        states = {entry["name"]: entry["state"] for entry in (body or {}).get("models", [])}
        if states and all(state == "ready" for state in states.values()):
            passed(f"every model is ready ({', '.join(states)})")
            return
        time.sleep(0.5)
    raise CheckFailed(f"not every model was ready within {READY_TIMEOUT_S} s ({states})")


def first_photo(shared):
    photos = sorted(path for path in (shared / "imagenet-sample").iterdir() if path.suffix.lower() in (".jpeg", ".jpg", ".png"))
    check(photos, f"{shared / 'imagenet-sample'} has photos")
    return photos[0].resolve()


def classify_with_api(base_url, model, image_path):
    content_type = mimetypes.guess_type(image_path.name)[0] or "image/jpeg"
    query = urllib.parse.urlencode({"model": model, "top": 5})
    request = urllib.request.Request(f"{base_url}/api/v1/classify?{query}", data=image_path.read_bytes(),
                                     headers={"Content-Type": content_type}, method="POST")
    with urllib.request.urlopen(request, timeout=RESULT_TIMEOUT_S) as response:
        return json.load(response)


def api(base_url, path, method="GET", body=None, headers=None):
    """(status, decoded JSON body or None) of one request; error statuses are answers too."""
    request = urllib.request.Request(f"{base_url}{path}", data=body, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=RESULT_TIMEOUT_S) as response:
            status, data = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, data = error.code, error.read()
    try:
        return status, json.loads(data) if data else None
    except ValueError:
        return status, None


class Browser:
    """Headless Chromium through the system chromedriver, keeping every browser console entry."""

    def __init__(self):
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                         "--window-size=1280,900", "--hide-scrollbars", "--no-first-run",
                         "--disable-extensions", "--disable-background-networking"):
            options.add_argument(argument)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        self.console = []
        self.set_viewport(1280, 900)

    def set_viewport(self, width, height, mobile=False):
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})

    def collect_console(self):
        self.console.extend(self.driver.get_log("browser"))

    def open(self, url):
        self.collect_console()
        self.driver.get(url)

    def screenshot(self, path):
        """The whole page, not only the viewport."""
        import base64

        metrics = self.driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
        size = metrics["cssContentSize"]
        shot = self.driver.execute_cdp_cmd("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}})
        Path(path).write_bytes(base64.b64decode(shot["data"]))
        print(f"screenshot: {path}", flush=True)

    def quit(self):
        self.driver.quit()


def run(arguments, base_url, out):
    from selenium.common.exceptions import NoAlertPresentException, TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    photo = first_photo(Path(arguments.shared))

    browser = Browser()
    driver = browser.driver
    wait = WebDriverWait(driver, RESULT_TIMEOUT_S)

    def find(selector):
        return driver.find_element(By.CSS_SELECTOR, selector)

    def text(selector):
        return find(selector).text.strip()

    def wait_for_result(what):
        """Waits for the result (or an error message) and fails with the page's error if there is one."""
        try:
            wait.until(lambda _: driver.find_elements(By.CSS_SELECTOR, "#result .top-label") or text("#error"))
        except TimeoutException:
            raise CheckFailed(f"no result for {what} within {RESULT_TIMEOUT_S} s")
        error = text("#error")
        if error:
            raise CheckFailed(f"the page shows an error for {what}: {error}")

    def wait_for_analysis(section, selector, what):
        """Waits until the probe's or the explanation's `section` is no longer busy; fails with the error it shows, or
        when it shows no `selector`."""
        try:
            wait.until(lambda _: find(f"#{section}-output").get_attribute("aria-busy") == "false")
        except TimeoutException:
            raise CheckFailed(f"no {what} within {RESULT_TIMEOUT_S} s (status: {text(f'#{section}-status')!r})")
        error = text(f"#{section}-error")
        if error:
            raise CheckFailed(f"the page shows an error for {what}: {error}")
        check(driver.find_elements(By.CSS_SELECTOR, selector), f"the page shows {what}")

    def focused_id():
        return driver.execute_script("return document.activeElement && document.activeElement.id")

    def probe_and_explain():
        field = find("#expected-class")
        expected = field.get_attribute("value")
        check(FLAG_CLASS in expected.split(", "), f"the expected-class field holds the example's classes ({expected[:40]!r}…)")
        field.clear()
        field.send_keys(UNKNOWN_CLASS)
        find("#probe").click()
        try:
            wait.until(lambda _: text("#probe-error"))
        except TimeoutException:
            raise CheckFailed(f"no error for the expected class {UNKNOWN_CLASS!r} within {RESULT_TIMEOUT_S} s")
        error = text("#probe-error")
        check(f"'{UNKNOWN_CLASS}' is not one of the 1000 ImageNet classes" in error,
              f"an unknown expected class gets the server's message ({error!r})")
        field.clear()
        field.send_keys(expected)
        started = time.monotonic()
        find("#probe").click()
        progress = text("#probe-status")
        check(re.fullmatch(r"Probing \d+ variants with " + re.escape(model) + r"… \d+ s", progress)
              and not find("#probe").is_enabled() and not find("#explain").is_enabled(),
              f"while probing, the page says so ({progress!r}) and Probe and Explain are disabled")
        wait_for_analysis("probe", "#probe-output .probe-report", "the probe")
        passed(f"the probe report arrived in {time.monotonic() - started:.1f} s")
        rows = [row.text for row in driver.find_elements(By.CSS_SELECTOR, "#probe-output .probe-summary tbody tr > th")]
        check(len(rows) == 21 and rows[0] == "Original",
              f"the summary table has the original and a row per transformation ({len(rows)} rows)")
        meta = text("#probe-output .probe-meta")
        check("expected: " in meta and FLAG_CLASS in meta.split("expected: ", 1)[1],
              f"the probe counted the example's classes as right ({meta[:160]!r}…)")
        thumbnails = len(driver.find_elements(By.CSS_SELECTOR, "#probe-output .probe-grid img"))
        check(thumbnails >= 100, f"the grids show the variants' thumbnails ({thumbnails})")
        charts = len(driver.find_elements(By.CSS_SELECTOR, "#probe-output .probe-chart svg"))
        check(charts >= 1, f"the report has charts ({charts})")
        summary = text("#probe-status")
        original = text("#probe-output .probe-summary tbody tr:first-child td")
        if original.endswith("(a miss)"):
            # The post's upside-down car: the model misses it, so the probe names what brings the class back.
            # One or two expected classes by name, more as "one of the 10 expected classes ('beach wagon', 'cab', …)".
            classes = r"('[^']+'( or '[^']+')?|one of the \d+ expected classes \('[^']+', '[^']+', …\))"
            sentence = r"the original is already a miss; (1 of 20 transformations brings|\d+ of 20 transformations bring) " + classes + r" back( \(.+\))?"
        else:
            sentence = r"(1 of 20 transformations flips|\d+ of 20 transformations flip) the answer"
        check(re.fullmatch(r"Probed \d+ variants\. " + re.escape(model) + ": " + sentence + r" \(\d+ s\)\.", summary),
              f"the status line sums the probe up in the report's words ({summary!r}; the original: {original!r})")
        check(focused_id() == "probe-title", "the focus moved to the probe's heading")
        check(find("#probe").is_enabled() and find("#explain").is_enabled(), "Probe and Explain are enabled again")
        driver.execute_script("document.getElementById('probe-title').scrollIntoView()")
        driver.save_screenshot(str(out / "probe.png"))
        print(f"screenshot: {out / 'probe.png'}", flush=True)

        Select(find("#explain-method")).select_by_value("superpixels")
        started = time.monotonic()
        find("#explain").click()
        wait_for_analysis("explain", "#explain-output figure img", "the explanation")
        passed(f"the explanation arrived in {time.monotonic() - started:.1f} s")
        heatmap = find("#explain-output figure img")
        source = heatmap.get_attribute("src") or ""
        check(source.startswith(("data:image/png", "blob:")), f"the heatmap is an image from the answer ({source[:30]}…)")
        try:
            width = wait.until(lambda _: driver.execute_script("return arguments[0].naturalWidth", heatmap))
        except TimeoutException:
            raise CheckFailed("the browser cannot show the heatmap")
        passed(f"the browser shows the heatmap ({width} px wide)")
        caption = text("#explain-output figcaption")
        check(model in caption and "regions greyed out" in caption,
              f"its caption names the model and the method ({caption!r})")
        check(focused_id() == "explain-title", "the focus moved to the explanation's heading")
        driver.execute_script("document.getElementById('explain-title').scrollIntoView()")
        driver.save_screenshot(str(out / "explain.png"))
        print(f"screenshot: {out / 'explain.png'}", flush=True)

    try:
        # 1. Upload a photo, classify it, compare with the API.
        browser.open(f"{base_url}/")
        check("Blindspot" in driver.title, f"the page title names Blindspot ({driver.title!r})")
        model = find("#model-select").get_attribute("value")
        status, listed = api(base_url, "/api/v1/models")
        default = next((entry["name"] for entry in listed if entry.get("default")), None)
        check(model == default, f"the model selector selects the server's default, {default} ({model})")
        find("#file-input").send_keys(str(photo))
        wait.until(lambda _: find("#submit").is_enabled())
        passed(f"{photo.name} loaded into the editor")
        find("#submit").click()
        wait_for_result(photo.name)
        shown = text("#result .top-label")
        expected = classify_with_api(base_url, model, photo)["predictions"][0]["label"]
        check(shown == expected, f"the top class shown ({shown!r}) is the API's for the same bytes ({expected!r})")
        widths = driver.execute_script(
            "return Array.from(document.querySelectorAll('#result .bar')).map(b => b.getBoundingClientRect().width)")
        check(len(widths) == 5, f"five confidence bars are shown ({len(widths)})")
        check(widths[0] > 0 and all(a >= b for a, b in zip(widths, widths[1:])),
              f"the bars' widths decrease ({', '.join(f'{w:.1f}' for w in widths)} px)")
        latency = text("#result .latency")
        check(re.search(r"inference [\d.]+ ms", latency) and re.search(r"[\d.]+ ms round trip", latency),
              f"the latency is shown ({latency!r})")
        browser.screenshot(out / "demo-result.png")

        # 2. An example of the post: loads and classifies itself.
        browser.open(f"{base_url}/examples/{EXAMPLE_ID}")
        wait_for_result(f"/examples/{EXAMPLE_ID}")
        reported = text("#reported")
        rows = len(driver.find_elements(By.CSS_SELECTOR, "#reported li"))
        check(EXAMPLE_POST_ANSWER in reported and rows == 3, f"the post's answer ({EXAMPLE_POST_ANSWER!r}) is shown as 3 classes ({rows})")
        wait.until(lambda _: text("#expected-rank"))
        rank = text("#expected-rank")
        check(re.search(r"ranked #\d+", rank), f"the expected class's rank is shown ({rank!r})")
        share = find("#share-link").get_attribute("value")
        check(share.endswith(f"/examples/{EXAMPLE_ID}"), f"the shareable link is shown ({share})")
        browser.screenshot(out / "example-1.png")

        # 3. Flag it, with a note that must be stored as text, not run: a pending report in the catalog.
        def flag(fill):
            """Opens the dialog, fills it with `fill()`, sends it; returns the confirmation shown."""
            find("#flag").click()
            wait.until(lambda _: driver.execute_script("return document.getElementById('flag-dialog').open"))
            flag_class = find("#flag-class")
            flag_class.clear()
            flag_class.send_keys(FLAG_CLASS)
            fill()
            driver.execute_script("document.getElementById('flag-confirmation').textContent = ''")
            find("#flag-submit").click()
            try:
                wait.until(lambda _: text("#flag-confirmation") or text("#flag-error"))
            except TimeoutException:
                raise CheckFailed(f"no answer to the flag within {RESULT_TIMEOUT_S} s")
            check(not text("#flag-error"), f"the server accepted the report ({text('#flag-error')!r})")
            return text("#flag-confirmation")

        # A fresh server filed the post's 16 examples as approved reports in their 8 categories: /blindspots agrees with
        # the home page, and Flag's category menu offers them.
        deadline = time.monotonic() + 60
        listing = {}
        while time.monotonic() < deadline:
            status, listing = api(base_url, "/api/v1/blindspots")
            if status == 200 and listing.get("total") == 16:
                break
            time.sleep(0.5)
        check(listing.get("total") == 16, f"the catalog lists the post's 16 examples as approved reports ({listing.get('total')})")
        _, examples = api(base_url, "/api/v1/examples")
        example_categories = {example["category"] for example in examples}
        status, categories = api(base_url, "/api/v1/categories")
        slugs = [category["slug"] for category in categories] if status == 200 else []
        check(len(example_categories) == 8 and example_categories <= set(slugs) and FLAG_CATEGORY in example_categories,
              f"the catalog has the examples' 8 categories ({slugs})")

        def fill_first_report():
            categories = [option.get_attribute("value") for option in driver.find_elements(By.CSS_SELECTOR, "#flag-category option")]
            check(example_categories <= set(categories), f"Flag's category menu offers the examples' 8 categories ({categories})")
            if FLAG_CATEGORY in categories:
                Select(find("#flag-category")).select_by_value(FLAG_CATEGORY)
            else:
                find("#flag-new-category").send_keys(FLAG_CATEGORY_TITLE)
            find("#flag-note").send_keys(FLAG_NOTE)
            find("#flag-reporter").send_keys(FLAG_REPORTER)

        confirmation = flag(fill_first_report)
        check("waiting for review" in confirmation, f"the confirmation says the report waits for review ({confirmation!r})")
        link = find("#flag-confirmation a").get_attribute("href")
        match = re.fullmatch(re.escape(base_url) + r"/blindspots/(\d+)", link or "")
        check(match and match[0].endswith(find("#flag-confirmation a").text),
              f"the confirmation links to the report's page ({link})")
        report_id = int(match[1])
        status, report = api(base_url, f"/api/v1/blindspots/{report_id}")
        check(status == 200, f"GET /api/v1/blindspots/{report_id} finds the report ({status})")
        check(report["note"] == FLAG_NOTE, f"the report holds the note verbatim ({report['note']!r})")
        check(report["status"] == "pending", f"the report waits for review (status {report['status']!r})")
        check(report["expected"]["label"] == FLAG_CLASS and report["category"] == FLAG_CATEGORY and report["reporter"] == FLAG_REPORTER,
              f"the report holds the class, category and name given ({report['expected']['label']!r}, {report['category']!r}, "
              f"{report['reporter']!r})")
        status, listing = api(base_url, "/api/v1/blindspots")
        check(status == 200 and report_id not in [listed["id"] for listed in listing["reports"]],
              "the pending report is not listed publicly")

        # Flagging the same image with the same class again confirms the report instead of filing another.
        confirmation = flag(lambda: None)
        check("already reported" in confirmation and "makes 2" in confirmation,
              f"flagging it again confirms the report ({confirmation!r})")
        status, report = api(base_url, f"/api/v1/blindspots/{report_id}")
        check(report["confirmations"] == 2, f"the report counts 2 confirmations ({report['confirmations']})")
        try:
            driver.switch_to.alert
            raise CheckFailed("the note's script ran (an alert is open)")
        except NoAlertPresentException:
            passed("the note's script did not run")

        # 4. Probe the example's image against its expected classes, then explain the model's answer.
        probe_and_explain()

        # 5. Phone width: one column, nothing wider than the screen, the probe report included.
        browser.set_viewport(390, 844, mobile=True)
        time.sleep(0.5)
        overflow = driver.execute_script("return document.documentElement.scrollWidth")
        check(overflow <= 390, f"at 390 px nothing overflows sideways (page width {overflow} px)")
        order = driver.execute_script(
            "return [document.querySelector('#canvas').getBoundingClientRect().bottom,"
            " document.querySelector('#result').getBoundingClientRect().top]")
        check(order[1] >= order[0], f"at 390 px the result comes after the image (image ends at {order[0]:.0f}, result starts at {order[1]:.0f})")
        browser.screenshot(out / "phone.png")

        # 6. No errors in the browser console.
        browser.collect_console()
        deliberate = "/api/v1/probe?"  # the 422 of the unknown expected class, which Chromium logs as an error
        severe = [entry for entry in browser.console if entry.get("level") == "SEVERE"
                  and not (deliberate in entry["message"] and "status of 422" in entry["message"])]
        check(not severe, "the browser console has no SEVERE entries"
              + ("" if not severe else ":\n" + "\n".join(entry["message"] for entry in severe)))
    finally:
        browser.quit()


# ---- Issue 16: the expected class everywhere, the models here, big photos, /api, phones and fresh answers ----------

PAGES = ("/", "/examples/15", "/api", "/blindspots")
PHONE = (390, 844)
HUSKY_PHOTO = "n02110185_Siberian_husky.JPEG"
HUSKY = "Siberian husky"
BIG_SIZE = (10000, 6000)
# 10000×6000 scaled so that its longer side is the page's 4096 px (6000 × 0.4096 = 2457.6).
BIG_SCALED = (4096, 2458)


def big_jpeg(folder):
    """A 10000×6000 JPEG (60 megapixels, over the server's 50), made with the vips command."""
    path = Path(folder) / "big-10000x6000.jpg"
    grey = Path(folder) / "grey.v"
    subprocess.run(["vips", "black", str(grey), str(BIG_SIZE[0]), str(BIG_SIZE[1]), "--bands", "3"], check=True)
    subprocess.run(["vips", "linear", str(grey), f"{path}[Q=80]", "1", "128"], check=True)
    grey.unlink()
    return path


def noisy_png(folder, megabytes):
    """A PNG of random pixels (they do not compress) a little over `megabytes` MB, within the pixel limits."""
    from PIL import Image

    side = int((megabytes * 1048576 / 3) ** 0.5) + 64
    path = Path(folder) / f"noise-{side}x{side}.png"
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(path, compress_level=1)
    return path


def run_pages(arguments, base_url, out, shared):
    """Issue 16's page checks in Chromium at 1280 and 390 px: no sideways scrolling, a one-line header, the answer
    right after the image, errors in view, the expected class's rank and suggestions, Explain's choice, Flag's start,
    re-classifying on a model switch, the missing post model, big photos scaled, and /api complete."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    browser = Browser()
    driver = browser.driver
    wait = WebDriverWait(driver, RESULT_TIMEOUT_S)
    scratch = Path(tempfile.mkdtemp(prefix="blindspot-e2e-pages-"))

    def find(selector):
        return driver.find_element(By.CSS_SELECTOR, selector)

    def text(selector):
        return find(selector).text.strip()

    def until(condition, what):
        try:
            return wait.until(lambda _: condition())
        except TimeoutException:
            raise CheckFailed(f"{what} did not happen within {RESULT_TIMEOUT_S} s")

    def result_shown(what):
        """Waits for the classification under way (#result is busy from the click on) to end in an answer or an error."""
        until(lambda: find("#result").get_attribute("aria-busy") != "true"
              and (driver.find_elements(By.CSS_SELECTOR, "#result .top-label") or text("#error")), f"a result for {what}")
        check(not text("#error"), f"no error for {what} ({text('#error')!r})")

    def js(script, *values):
        return driver.execute_script(script, *values)

    def no_sideways_scrolling(width):
        for path in PAGES:
            browser.open(f"{base_url}{path}")
            if path.startswith("/examples/"):
                result_shown(path)
            scroll_width, inner = js("return [document.documentElement.scrollWidth, innerWidth]")
            check(scroll_width <= inner, f"at {width} px {path} does not scroll sideways (page {scroll_width} px, window {inner} px)")

    try:
        status, listed = api(base_url, "/api/v1/models")
        default_model = next((model["name"] for model in listed if model.get("default")), None)
        check(status == 200 and default_model, f"the server names its default model ({default_model})")

        # ---- 1280 px ----
        browser.set_viewport(1280, 900)
        no_sideways_scrolling(1280)

        # /api: every operation of /openapi.json, endpoints before the errors, the real default model.
        status, document = api(base_url, "/openapi.json")
        operations = [f"{method.upper()} {path}" for path, item in document["paths"].items()
                      for method in item if method in ("get", "post", "put", "patch", "delete")]
        browser.open(f"{base_url}/api")
        headings = [heading.text.strip() for heading in driver.find_elements(By.CSS_SELECTOR, ".endpoint h2")]
        missing = [operation for operation in operations if operation not in headings]
        check(not missing and len(headings) == len(operations),
              f"/api documents each of the {len(operations)} operations of /openapi.json once (missing: {missing})")
        check(any(h.startswith("POST /api/v1/probe") for h in headings) and any(h.startswith("POST /api/v1/explain") for h in headings),
              "/api documents probe and explain")
        order = js("return [document.querySelector('.endpoint').getBoundingClientRect().top,"
                   " document.querySelector('table.errors').getBoundingClientRect().top]")
        check(order[0] < order[1], f"/api lists the endpoints before the error table ({order[0]:.0f} < {order[1]:.0f})")
        samples = " ".join(code.text for code in driver.find_elements(By.CSS_SELECTOR, ".endpoint pre"))
        named = set(re.findall(r"efficientnet_lite\d|inception_v3", samples))
        check(named == {default_model}, f"/api's examples name the server's default model and no other ({sorted(named)})")

        # The models here: the post's model is missing and the page says how to add it.
        browser.open(f"{base_url}/")
        note = text("#post-model-note")
        check("Inception v3" in note and "blindspot models fetch inception_v3" in note and "--weights inception_v3=FILE" in note,
              f"the page says the post's model is not installed and how to add it ({note[:80]!r}…)")
        others = text("#other-models")
        check(others.startswith("Other models Blindspot knows, not loaded here:") and "Also in the catalog" not in driver.page_source,
              f"the other models are not called a catalog ({others[:60]!r}…)")

        # One expected class for the page: Submit shows its rank, Explain offers it, Flag starts with it.
        husky = (Path(shared) / "imagenet-sample" / HUSKY_PHOTO).resolve()
        check(husky.is_file(), f"{husky} is there")
        find("#file-input").send_keys(str(husky))
        until(lambda: find("#submit").is_enabled(), f"{husky.name} loaded")
        find("#expected-class").send_keys(HUSKY)
        find("#submit").click()
        result_shown(husky.name)
        rank = text("#expected-rank")
        check(re.fullmatch(rf"Expected class ‘{HUSKY}’ is ranked #\d+ \([\d.<]+%\)", rank), f"Submit shows the expected class's rank ({rank!r})")
        answer = text("#result .top-label")
        choices = [option.text for option in Select(find("#explain-class")).options]
        check(choices == [f"the answer ({answer})", f"the expected class ({HUSKY})"], f"Explain offers the answer or the expected class ({choices})")
        Select(find("#explain-class")).select_by_value("expected")
        find("#explain").click()
        until(lambda: find("#explain-output").get_attribute("aria-busy") == "false", "the explanation of the expected class")
        check(not text("#explain-error"), f"the explanation has no error ({text('#explain-error')!r})")
        explained = text("#explain-output .heatmap-class")
        check(explained.startswith(f"‘{HUSKY}’"), f"Explain explains the expected class ({explained!r})")
        legend = text("#explain-output .heatmap-legend")
        status, explanations = api(base_url, f"/api/v1/explain?{urllib.parse.urlencode({'class': HUSKY})}", "POST",
                                   husky.read_bytes(), {"Content-Type": "image/jpeg", "Accept": "application/json"})
        caption = explanations[0].get("caption") if status == 200 and explanations else None
        find("#flag").click()
        until(lambda: js("return document.getElementById('flag-dialog').open"), "the flag dialog opening")
        flag_class = find("#flag-class").get_attribute("value")
        check(flag_class == HUSKY, f"Flag's correct class starts with the expected class ({flag_class!r})")
        find("#flag-class").clear()
        find("#flag-class").send_keys("husky")
        find("#flag-submit").click()
        until(lambda: text("#flag-error"), "the flag's error for 'husky'")
        offered = [button.text for button in driver.find_elements(By.CSS_SELECTOR, "#flag-suggestions button")]
        check({HUSKY, "Eskimo dog"} <= set(offered), f"Flag offers the suggestions for 'husky' too ({offered})")
        find("#flag-cancel").click()

        # A near miss: the server's suggestions as buttons that fill the field, and the list while typing.
        field = find("#expected-class")
        field.clear()
        field.send_keys("husky")
        find("#submit").click()
        until(lambda: text("#error"), "the error for 'husky'")
        suggestions = [button.text for button in driver.find_elements(By.CSS_SELECTOR, "#expected-suggestions button")]
        check({HUSKY, "Eskimo dog"} <= set(suggestions), f"'husky' gets 'did you mean' buttons ({suggestions})")
        listed_classes = lambda: js("return Array.from(document.querySelectorAll('#imagenet-classes option'), (option) => option.value)")
        until(lambda: 0 < len(listed_classes()) <= 8, "the class list narrowing to the server's matches")
        listed = listed_classes()
        check(HUSKY in listed, f"while typing, the class list holds the server's matches ({listed})")
        next(button for button in driver.find_elements(By.CSS_SELECTOR, "#expected-suggestions button") if button.text == HUSKY).click()
        check(field.get_attribute("value") == HUSKY, f"a suggestion fills the field ({field.get_attribute('value')!r})")
        find("#submit").click()
        result_shown(f"{husky.name} with the suggestion")
        check(text("#expected-rank").startswith(f"Expected class ‘{HUSKY}’"), "the suggestion is then ranked")

        # Choosing another model classifies again at once.
        before = text("#result .answered-by")
        other = next((option.get_attribute("value") for option in Select(find("#model-select")).options
                      if option.get_attribute("value") != find("#model-select").get_attribute("value")), None)
        check(other, f"the server offers a second model to switch to ({other})")
        Select(find("#model-select")).select_by_value(other)
        until(lambda: text("#result .answered-by") == f"{other} sees", f"the answer of {other}")
        passed(f"switching the model re-classifies ({before!r} → {text('#result .answered-by')!r})")

        # ---- 390 px ----
        browser.set_viewport(*PHONE, mobile=True)
        no_sideways_scrolling(PHONE[0])
        browser.open(f"{base_url}/api")
        broken_codes = js("return Array.from(document.querySelectorAll('table.errors code'))"
                          ".filter((code) => code.getClientRects().length > 1"
                          " || code.getBoundingClientRect().height > 2 * parseFloat(getComputedStyle(code).fontSize))"
                          ".map((code) => code.textContent)")
        codes = len(driver.find_elements(By.CSS_SELECTOR, "table.errors code"))
        check(codes > 20 and not broken_codes, f"at 390 px none of /api's {codes} error codes breaks across lines ({broken_codes})")
        browser.open(f"{base_url}/")
        header = js("""const header = document.querySelector('header.site');
            const brand = header.querySelector('.brand');
            const tops = Array.from(header.querySelectorAll('nav a'), (link) => link.getBoundingClientRect().top);
            return {height: header.getBoundingClientRect().height, brandLines: brand.getClientRects().length,
                    brandHeight: brand.getBoundingClientRect().height, spread: Math.max(...tops) - Math.min(...tops),
                    linkLines: Math.max(...Array.from(header.querySelectorAll('nav a'), (link) => link.getClientRects().length))};""")
        check(header["height"] <= 60 and header["brandLines"] == 1 and header["brandHeight"] <= 32 and header["spread"] <= 2
              and header["linkLines"] == 1, f"at 390 px the header is one line ({header})")

        browser.open(f"{base_url}/examples/15")
        result_shown("/examples/15 at 390 px")
        image_bottom, answer_top, height = js("return [document.querySelector('#canvas').getBoundingClientRect().bottom + scrollY,"
                                              " document.querySelector('#result .answered-by').getBoundingClientRect().top + scrollY, innerHeight]")
        check(image_bottom <= answer_top <= 1.2 * height,
              f"at 390 px /examples/15's answer comes after the image and within 1.2 screens (image ends at {image_bottom:.0f}, "
              f"the answer starts at {answer_top:.0f}, 1.2 screens = {1.2 * height:.0f} px)")
        browser.screenshot(out / "after-example15-390.png")

        # A file that is no image: the error is on screen.
        browser.open(f"{base_url}/")
        broken = scratch / "broken.jpg"
        broken.write_bytes(b"not a jpeg at all" * 100)
        js("window.scrollTo(0, 0)")
        find("#file-input").send_keys(str(broken))
        until(lambda: text("#error"), "the error for a broken file")
        time.sleep(0.6)  # scrollIntoView
        box = js("const r = document.getElementById('error').getBoundingClientRect(); return [r.top, r.bottom, innerHeight]")
        check(0 <= box[0] and box[1] <= box[2], f"at 390 px the error is in view after a bad file ({text('#error')!r} at {box[0]:.0f}–{box[1]:.0f} of {box[2]})")
        browser.screenshot(out / "after-bad-file-390.png")

        # A 10000×6000 photo: scaled in the browser to fit, then classified.
        big = big_jpeg(scratch)
        browser.open(f"{base_url}/")
        find("#file-input").send_keys(str(big))
        until(lambda: find("#submit").is_enabled() or text("#error"), "the big photo loading")
        info = text("#image-info")
        wanted = f"scaled from {BIG_SIZE[0]}×{BIG_SIZE[1]} to {BIG_SCALED[0]}×{BIG_SCALED[1]}"
        check(wanted in info, f"the page says the big photo was scaled ({info!r})")
        find("#submit").click()
        result_shown("the scaled 10000×6000 photo")
        passed(f"the scaled photo was classified ({text('#result .top-label')!r})")
        browser.screenshot(out / "after-big-upload-390.png")

        # A PNG over the body limit but within the pixel limits: re-encoded as JPEG in the browser, then classified.
        limit = int(re.search(r'"maximumBodyBytes":(\d+)', driver.page_source)[1])
        heavy = noisy_png(scratch, limit / 1048576)
        check(heavy.stat().st_size > limit, f"{heavy.name} ({heavy.stat().st_size} bytes) is over the {limit}-byte limit")
        browser.open(f"{base_url}/")
        find("#file-input").send_keys(str(heavy))
        until(lambda: find("#submit").is_enabled() or text("#error"), "the heavy PNG loading")
        info = text("#image-info")
        check("so it is sent re-encoded as JPEG" in info, f"the page says the heavy PNG is re-encoded ({info!r})")
        find("#submit").click()
        result_shown("the re-encoded PNG")

        # Last, so that the checks above run while the server's caption is still to come.
        check(caption and legend == caption, f"the heatmap's legend is the server's caption ({legend!r}; the API: {caption!r})")

        browser.collect_console()
        severe = [entry for entry in browser.console if entry.get("level") == "SEVERE" and "status of 422" not in entry["message"]]
        check(not severe, "the browser console has no SEVERE entries but the deliberate 422s"
              + ("" if not severe else ":\n" + "\n".join(entry["message"] for entry in severe)))
    finally:
        browser.quit()
        shutil.rmtree(scratch, ignore_errors=True)


def failed(reason, server):
    """Says why the test failed, with the end of the server's output (and what it died of, if it did) when this test
    started the server; returns 1."""
    print(f"FAIL: {reason}", file=sys.stderr, flush=True)
    if server and not isinstance(reason, ServerCrashed):
        crash = crash_report(server.process, server.output())
        if crash:
            print(f"FAIL: the server (pid {server.process.pid}) {crash}", file=sys.stderr, flush=True)
        print(f"server output ({server.log_path}):\n{server.output()[-LOG_TAIL_CHARACTERS:]}", file=sys.stderr)
    return 1


def run_checks(checks, server=None):
    """Runs `checks()` against `server` (started here, None for a server already running), checks that the server
    survived them (Server.check_survived), stops it whatever happens, and prints ALL PASSED or why it failed with the
    server's output; returns the exit status."""
    try:
        if server:
            server.wait_until_ready()
            passed(f"the server is ready at {server.base_url}")
        checks()
        if server:
            server.check_survived()
    except CheckFailed as failure:
        return failed(failure, server)
    except Exception as error:  # A broken browser or server is a failure too, with its reason.
        return failed(f"{type(error).__name__}: {error}", server)
    finally:
        if server:
            server.stop()
    print("ALL PASSED", flush=True)
    return 0


def shared_folder_or_skip(arguments):
    """The shared folder, or None after printing SKIPPED when its photos are absent."""
    shared = Path(arguments.shared)
    if not (shared / "imagenet-sample").is_dir():
        print(f"SKIPPED: {shared / 'imagenet-sample'} is absent (set BLINDSPOT_SHARED or --shared)", flush=True)
        return None
    Path(arguments.out).mkdir(parents=True, exist_ok=True)
    return shared


def main():
    arguments = parse_arguments()
    shared = shared_folder_or_skip(arguments)
    if shared is None:
        return 0
    out = Path(arguments.out)
    models = f"{arguments.model},{arguments.second_model}"
    server = None if arguments.base_url else Server(arguments.blindspot, shared, models, out)
    base_url = arguments.base_url.rstrip("/") if arguments.base_url else server.base_url

    def checks():
        wait_for_every_model(base_url)
        check_contract(base_url, first_photo(shared), check)
        run(arguments, base_url, out)
        run_pages(arguments, base_url, out, shared)

    return run_checks(checks, server)


if __name__ == "__main__":
    sys.exit(main())
