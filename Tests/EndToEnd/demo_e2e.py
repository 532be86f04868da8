#!/usr/bin/env python3
"""End-to-end test of the web demo: starts `blindspot serve`, drives the page in headless Chromium with Selenium.

First checks the API against /openapi.json (api_contract.py). Then checks that an uploaded photo is classified as the API classifies the same bytes, that /examples/1 classifies the
post's upside-down car by itself and shows the post's answer and the expected class's rank, that flagging it files a
pending report in the catalog with the note verbatim (and that flagging it again confirms that report), that Probe
shows the server's report (a row per transformation, charts, thumbnails) for the example's expected classes and that
Explain shows a heatmap per model, that the page fits a phone, and that the browser logged no errors. Screenshots go
to --out.

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
FLAG_CLASS = "beach wagon"
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
        check(re.fullmatch(r"Probing \d+ variants with " + re.escape(arguments.model) + r"… \d+ s", progress)
              and not find("#probe").is_enabled() and not find("#explain").is_enabled(),
              f"while probing, the page says so ({progress!r}) and Probe and Explain are disabled")
        wait_for_analysis("probe", "#probe-output .probe-report", "the probe")
        passed(f"the probe report arrived in {time.monotonic() - started:.1f} s")
        rows = [row.text for row in driver.find_elements(By.CSS_SELECTOR, "#probe-output .probe-summary tbody tr > th")]
        check(len(rows) == 21 and rows[0] == "Original",
              f"the summary table has the original and a row per transformation ({len(rows)} rows)")
        meta = text("#probe-output .probe-meta")
        check(f"expected: {FLAG_CLASS}" in meta, f"the probe counted the example's classes as right ({meta[:90]!r}…)")
        thumbnails = len(driver.find_elements(By.CSS_SELECTOR, "#probe-output .probe-grid img"))
        check(thumbnails >= 100, f"the grids show the variants' thumbnails ({thumbnails})")
        charts = len(driver.find_elements(By.CSS_SELECTOR, "#probe-output .probe-chart svg"))
        check(charts >= 1, f"the report has charts ({charts})")
        summary = text("#probe-status")
        original = text("#probe-output .probe-summary tbody tr:first-child td")
        if original.endswith("(a miss)"):
            # The post's upside-down car: the model misses it, so the probe names what brings the class back.
            sentence = r"the original is already a miss; \d+ of 20 transformations bring '[^']+'( or '[^']+')* back( \(.+\))?"
        else:
            sentence = r"\d+ of 20 transformations flip the answer"
        check(re.fullmatch(r"Probed \d+ variants\. " + re.escape(arguments.model) + ": " + sentence + r" \(\d+ s\)\.", summary),
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
        check(arguments.model in caption and "regions greyed out" in caption,
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
        check(model == arguments.model, f"the model selector selects {arguments.model}")
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

        def fill_first_report():
            categories = [option.get_attribute("value") for option in driver.find_elements(By.CSS_SELECTOR, "#flag-category option")]
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
        columns = driver.execute_script(
            "return getComputedStyle(document.querySelector('.workspace')).gridTemplateColumns.split(' ').length")
        check(columns == 1, "at 390 px the image and the result are in one column")
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
    server = None if arguments.base_url else Server(arguments.blindspot, shared, arguments.model, out)
    base_url = arguments.base_url.rstrip("/") if arguments.base_url else server.base_url

    def checks():
        check_contract(base_url, first_photo(shared), check)
        run(arguments, base_url, out)

    return run_checks(checks, server)


if __name__ == "__main__":
    sys.exit(main())
