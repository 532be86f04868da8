"""Headless Chromium through the system chromedriver (Debian's packages; nothing is downloaded), keeping the console."""
import base64
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
WAIT_S = 60


class Browser:
    """One headless Chromium window with the lookups and waits the page tests use; every console entry is kept."""

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
        return self.console

    def severe_console_entries(self):
        """The messages of the SEVERE console entries so far."""
        return [entry["message"] for entry in self.collect_console() if entry.get("level") == "SEVERE"]

    def open(self, url):
        self.collect_console()
        self.driver.get(url)

    def find(self, selector):
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.CSS_SELECTOR, selector)

    def find_all(self, selector, within=None):
        from selenium.webdriver.common.by import By

        return (within or self.driver).find_elements(By.CSS_SELECTOR, selector)

    def text(self, selector):
        return self.find(selector).text.strip()

    def js(self, script, *values):
        return self.driver.execute_script(script, *values)

    def until(self, condition, what, timeout=WAIT_S):
        """What `condition()` returned once it was true; fails when it is not within `timeout` seconds, saying `what`
        (or `what()`, for a description read from the page then) did not happen."""
        from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException, TimeoutException
        from selenium.webdriver.support.ui import WebDriverWait

        # A page still loading or changing can lose or replace what `condition` looks at: it is asked again.
        ignored = (NoSuchElementException, StaleElementReferenceException)
        try:
            return WebDriverWait(self.driver, timeout, ignored_exceptions=ignored).until(lambda _: condition())
        except TimeoutException:
            raise AssertionError(f"{what() if callable(what) else what} did not happen within {timeout} s") from None

    def open_alert(self):
        """The text of an open alert (a script ran), or None."""
        from selenium.common.exceptions import NoAlertPresentException

        try:
            return self.driver.switch_to.alert.text
        except NoAlertPresentException:
            return None

    def screenshot(self, path, whole_page=True):
        """The whole page, or only the viewport."""
        clip = {}
        if whole_page:
            size = self.driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
            clip = {"captureBeyondViewport": True,
                    "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}}
        shot = self.driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", **clip})
        Path(path).write_bytes(base64.b64decode(shot["data"]))
        print(f"screenshot: {path}", flush=True)

    def quit(self):
        self.driver.quit()


def wait_for_result(browser, what):
    """On the demo page: waits for the classification under way (#result is busy from the click on) to end in an
    answer or an error, and fails with the page's error if there is one."""
    browser.until(lambda: browser.find("#result").get_attribute("aria-busy") != "true"
                  and (browser.find_all("#result .top-label") or browser.text("#error")), f"a result for {what}")
    assert not browser.text("#error"), f"no error for {what} ({browser.text('#error')!r})"
