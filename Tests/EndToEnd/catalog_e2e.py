#!/usr/bin/env python3
"""End-to-end test of the catalog of blind spots: starts `blindspot serve` with an admin token, drives the pages in
headless Chromium with Selenium.

Checks that reports filed through the API with hostile text (note, new category, reporter) show that text as text on
/blindspots and /blindspots/ID and run none of it; that pending reports are not listed publicly; that an admin logs
in at /admin, approves a report with its button and then finds it in the catalog; that the category filter works;
that pages from another origin cannot delete a report or file one even while the admin is logged in (and that the
server answers such requests 403 cross_site_request); that the catalog is one column on a phone; and that the
browser logged no errors besides the refused cross-site requests. Screenshots go to --out.

    python3 Tests/EndToEnd/catalog_e2e.py --blindspot .build/release/blindspot --shared ../shared --out .build/test-output/catalog-e2e

Needs what demo_e2e.py needs (selenium, /usr/bin/chromium, /usr/bin/chromedriver) and uses its helpers.
"""
import http.server
import re
import secrets
import sys
import tempfile
import threading
import time
from functools import partial
from pathlib import Path

from api_contract import multipart
from demo_e2e import (RESULT_TIMEOUT_S, Browser, CheckFailed, Server, api, check, free_port, passed, run_checks,
                       script_arguments, shared_folder_or_skip)

HOSTILE_NOTE = """<img src=x onerror="document.title='pwned'"><script>document.title='pwned'</script>"""
HOSTILE_CATEGORY = "<b onmouseover=alert(1)>Hostile</b> cats"
HOSTILE_REPORTER = '"><svg onload=alert(1)>'
# What the server makes of the hostile category's title (Category.slug(for:)).
HOSTILE_CATEGORY_SLUG = "b-onmouseover-alert-1-hostile-b-cats"
# Elements and attributes the hostile strings would create if they were parsed as HTML.
INJECTED_SELECTOR = "img[src='x'], svg, b[onmouseover], [onerror], [onload], [onmouseover], script:not([src])"
CROSS_SITE_WAIT_S = 3


def parse_arguments():
    return script_arguments(__doc__, ".build/test-output/catalog-e2e").parse_args()


def sample_photos(shared):
    """The sample photos with their class (the WordNet id that starts each file name), sorted by name."""
    photos = sorted(path for path in (shared / "imagenet-sample").iterdir() if path.suffix.lower() in (".jpeg", ".jpg", ".png"))
    check(len(photos) >= 6, f"{shared / 'imagenet-sample'} has at least 6 photos ({len(photos)})")
    return [(path.resolve(), path.name.split("_", 1)[0]) for path in photos]


def file_report(base_url, photo, expected, note="", category="", reporter="", headers=None):
    """POST /api/v1/blindspots with a multipart form; (status, body)."""
    fields = [("image", photo.name, photo.read_bytes()), ("expected", None, expected.encode()), ("note", None, note.encode())]
    fields += [(name, None, value.encode()) for name, value in (("category", category), ("reporter", reporter)) if value]
    body, content_type = multipart(fields)
    return api(base_url, "/api/v1/blindspots", "POST", body, {"Content-Type": content_type, **(headers or {})})


class OtherOrigin:
    """A plain static HTTP server on another port of 127.0.0.1: another origin, serving the attacker's pages."""

    def __init__(self, out):
        self.directory = tempfile.mkdtemp(prefix="blindspot-e2e-other-origin-")
        self.log = open(out / "other-origin.log", "w")
        handler = partial(LoggingHandler, self.log, directory=self.directory)
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def add(self, name, html):
        Path(self.directory, name).write_text(html)
        return f"{self.base_url}/{name}"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.log.close()


class LoggingHandler(http.server.SimpleHTTPRequestHandler):
    def __init__(self, log, *arguments, **keywords):
        self.log = log
        super().__init__(*arguments, **keywords)

    def log_message(self, format, *arguments):
        self.log.write(format % arguments + "\n")


def cross_site_pages(other, base_url, report_id, csrf_token):
    """The attacker's two pages: a form that deletes a report (with the admin's real CSRF token, so that only the
    origin check stands in the way), and a script that files a report with a drawn image (a no-cors multipart POST
    needs no preflight). Both say when they are done in their title."""
    delete_page = other.add("delete.html", f"""<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>delete</title></head><body>
<form id="attack" method="post" action="{base_url}/admin/blindspots/{report_id}">
<input name="action" value="delete"><input name="return" value="/admin"><input name="csrf" value="{csrf_token}">
</form>
<script>document.getElementById('attack').submit();</script>
</body></html>
""")
    report_page = other.add("report.html", f"""<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>report</title></head><body>
<canvas id="canvas" width="64" height="64"></canvas>
<script>
const canvas = document.getElementById('canvas');
const context = canvas.getContext('2d');
for (let x = 0; x < 64; x += 8) for (let y = 0; y < 64; y += 8) {{
  context.fillStyle = `rgb(${{x * 4}}, ${{y * 4}}, ${{(x + y) * 2}})`;
  context.fillRect(x, y, 8, 8);
}}
canvas.toBlob(async (blob) => {{
  const form = new FormData();
  form.append('image', blob, 'drawn.png');
  form.append('expected', 'goldfish');
  form.append('note', 'cross-site probe');
  try {{
    await fetch('{base_url}/api/v1/blindspots', {{ method: 'POST', mode: 'no-cors', credentials: 'include', body: form }});
    document.title = 'sent';
  }} catch (error) {{
    document.title = 'failed: ' + error.message;
  }}
}}, 'image/png');
</script>
</body></html>
""")
    return delete_page, report_page


def run(arguments, base_url, token, out):
    from selenium.common.exceptions import NoAlertPresentException, TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    photos = sample_photos(Path(arguments.shared))
    admin = {"Authorization": f"Bearer {token}"}
    json_headers = {**admin, "Content-Type": "application/json"}

    def set_status(report_id, status):
        answer, report = api(base_url, f"/api/v1/blindspots/{report_id}", "PATCH", f'{{"status": "{status}"}}'.encode(), json_headers)
        check(answer == 200 and report["status"] == status, f"PATCH /api/v1/blindspots/{report_id} makes it {status} ({answer})")

    def listed_ids(query=""):
        answer, listing = api(base_url, f"/api/v1/blindspots{query}")
        check(answer == 200, f"GET /api/v1/blindspots{query} answers 200 ({answer})")
        return [report["id"] for report in listing["reports"]]

    # 1. Reports with hostile text, through the API; they wait for review until approved.
    hostile_ids = []
    for photo, wordnet_id in photos[:2]:
        status, report = file_report(base_url, photo, wordnet_id, HOSTILE_NOTE, HOSTILE_CATEGORY, HOSTILE_REPORTER)
        check(status == 201, f"POST /api/v1/blindspots files {photo.name} as a new report ({status}{'' if status == 201 else f': {report}'})")
        check(report["note"] == HOSTILE_NOTE and report["reporter"] == HOSTILE_REPORTER and report["categoryTitle"] == HOSTILE_CATEGORY
              and report["category"] == HOSTILE_CATEGORY_SLUG,
              f"report {report['id']} keeps the note, name and new category verbatim ({report['category']!r})")
        check(report["status"] == "pending" and report["confirmations"] == 1, f"report {report['id']} is pending, reported once")
        hostile_ids.append(report["id"])
    status, report = file_report(base_url, photos[0][0], photos[0][1], "the same again")
    check(status == 200 and report["id"] == hostile_ids[0] and report["confirmations"] == 2,
          f"the same photo with the same class confirms report {hostile_ids[0]} ({status}, {report.get('confirmations')} confirmations)")
    check(not set(hostile_ids) & set(listed_ids()), "pending reports are not listed publicly")
    status, _ = api(base_url, f"/api/v1/blindspots/{hostile_ids[0]}", "PATCH", b'{"status": "approved"}', {"Content-Type": "application/json"})
    check(status in (401, 403), f"PATCH without the admin token is refused ({status})")
    for report_id in hostile_ids:
        set_status(report_id, "approved")
    check(set(hostile_ids) <= set(listed_ids()), "approved reports are listed publicly")

    browser = Browser()
    driver = browser.driver
    wait = WebDriverWait(driver, RESULT_TIMEOUT_S)

    def find(selector):
        return driver.find_element(By.CSS_SELECTOR, selector)

    def text(selector):
        return find(selector).text.strip()

    def check_nothing_ran(where):
        check(driver.title != "pwned", f"{where}: the hostile text did not change the title ({driver.title!r})")
        try:
            alert = driver.switch_to.alert
            raise CheckFailed(f"{where}: an alert is open ({alert.text!r})")
        except NoAlertPresentException:
            passed(f"{where}: no alert is open")
        injected = driver.execute_script(f"return Array.from(document.querySelectorAll({INJECTED_SELECTOR!r})).map(e => e.outerHTML)")
        check(not injected, f"{where}: no element or handler came from the hostile text ({injected[:3]})")

    try:
        # 2. The catalog and a report's page show the hostile text as text.
        browser.open(f"{base_url}/blindspots")
        grid = text("#report-grid")
        check(grid.count(HOSTILE_CATEGORY) == 2, "/blindspots shows the hostile category's title as text on both cards")
        check(all(driver.find_elements(By.CSS_SELECTOR, f"#report-{report_id}") for report_id in hostile_ids),
              "/blindspots has a card for each approved report")
        notes = driver.execute_script("return Array.from(document.querySelectorAll('#report-grid .report-note')).map(e => e.textContent)")
        check(notes.count(HOSTILE_NOTE) == 2, "the cards hold the hostile note as text")
        verdict = text(f"#report-{hostile_ids[0]} .verdict-list li")
        check(re.fullmatch(rf"{re.escape(arguments.model)}\s*(✗\s*Blind spot holds|✓\s*Fixed|✓\s*Not fooled)\s*"
                           + r"sees .+ <?[\d.]+% · Expected class ranked #\d+", verdict),
              f"a card says what {arguments.model} sees now and whether the blind spot holds ({verdict!r})")
        check_nothing_ran("/blindspots")
        browser.screenshot(out / "catalog.png")

        report_id = hostile_ids[0]
        browser.open(f"{base_url}/blindspots/{report_id}")
        check(text("#report-note") == HOSTILE_NOTE, f"/blindspots/{report_id} shows the note verbatim ({text('#report-note')!r})")
        check(text("#report-reporter") == HOSTILE_REPORTER, f"/blindspots/{report_id} shows the reporter verbatim")
        check(HOSTILE_CATEGORY in text(".facts"), f"/blindspots/{report_id} shows the category's title verbatim")
        rows = driver.find_elements(By.CSS_SELECTOR, ".verdict-table tbody tr")
        check(len(rows) == 1 and rows[0].find_element(By.CSS_SELECTOR, "th .model-name").text == arguments.model,
              f"/blindspots/{report_id} has a row of verdicts for {arguments.model} ({len(rows)} rows)")
        reported = rows[0].find_element(By.CSS_SELECTOR, "td[data-label='When reported']")
        # The widths app.js gives the bars (their rendered width is still growing in a transition).
        bars = [float(driver.execute_script("return arguments[0].style.width", bar).rstrip("%") or "nan")
                for bar in reported.find_elements(By.CSS_SELECTOR, ".bar")]
        check(len(bars) == 5 and bars[0] > 0 and all(a >= b for a, b in zip(bars, bars[1:])),
              f"the verdict when reported shows the top 5 with decreasing bars ({', '.join(f'{bar:.1f}%' for bar in bars)})")
        check(re.search(r"Expected class ranked #\d+ \(<?[\d.]+%\)\nWeights [0-9a-f]{12} · ", reported.text),
              f"the verdict gives the expected class's rank and the weights ({reported.text.splitlines()[-2:]})")
        share = find("#share-link").get_attribute("value")
        check(share == f"{base_url}/blindspots/{report_id}", f"the report's link is shown ({share})")
        check_nothing_ran(f"/blindspots/{report_id}")
        browser.screenshot(out / "report.png")

        # The category filter lists the two hostile reports only.
        browser.open(f"{base_url}/blindspots")
        Select(find("#filter-category")).select_by_value(HOSTILE_CATEGORY_SLUG)
        find("#filters button[type=submit]").click()
        wait.until(lambda _: "category=" in driver.current_url)
        cards = sorted(int(card.get_attribute("id").removeprefix("report-")) for card in driver.find_elements(By.CSS_SELECTOR, ".report-card"))
        check(cards == sorted(hostile_ids), f"filtering by the hostile category lists its two reports ({cards})")
        check(find("#filter-category").get_attribute("value") == HOSTILE_CATEGORY_SLUG, "the filter keeps its category selected")

        # 3. Moderation in the browser: log in, approve a pending report with its button, find it in the catalog.
        photo, wordnet_id = photos[2]
        status, pending = file_report(base_url, photo, wordnet_id, "Waiting for an admin.")
        check(status == 201 and pending["status"] == "pending", f"report {pending['id']} is filed and pending ({status})")
        status, _ = api(base_url, "/admin/login", "POST", f"token={token}".encode(),
                        {"Content-Type": "application/x-www-form-urlencoded"})
        check(status == 403, f"a login posted without the login page's token is refused, even with the right admin token ({status})")
        browser.open(f"{base_url}/admin")
        find("#admin-token").send_keys(token)
        find("#login-submit").click()
        try:
            wait.until(lambda _: driver.find_elements(By.CSS_SELECTOR, f"#queue-{pending['id']}"))
        except TimeoutException:
            raise CheckFailed(f"after logging in, /admin does not list report {pending['id']} ({driver.current_url}: {text('main')[:300]!r})")
        passed(f"logged in, /admin lists pending report {pending['id']}")
        browser.screenshot(out / "admin.png")
        csrf_token = find("#logout-form input[name=csrf]").get_attribute("value")
        find(f"#moderate-{pending['id']} button[value=approve]").click()
        wait.until(lambda _: driver.find_elements(By.CSS_SELECTOR, "#flash"))
        check(not driver.find_elements(By.CSS_SELECTOR, f"#queue-{pending['id']}"),
              f"after Approve, report {pending['id']} left the queue ({text('#flash')!r})")
        status, report = api(base_url, f"/api/v1/blindspots/{pending['id']}")
        check(report["status"] == "approved", f"report {pending['id']} is approved ({report['status']})")
        browser.open(f"{base_url}/blindspots")
        check(driver.find_elements(By.CSS_SELECTOR, f"#report-{pending['id']}"), f"/blindspots now lists report {pending['id']}")

        # 4. Another origin cannot act with the admin's session, not even with the admin's CSRF token.
        photo, wordnet_id = photos[3]
        status, target = file_report(base_url, photo, wordnet_id, "Target of a cross-site delete.")
        check(status == 201, f"report {target['id']} is filed as the target ({status})")
        other = OtherOrigin(out)
        try:
            delete_page, report_page = cross_site_pages(other, base_url, target["id"], csrf_token)
            browser.open(delete_page)
            time.sleep(CROSS_SITE_WAIT_S)
            status, report = api(base_url, f"/api/v1/blindspots/{target['id']}", headers=admin)
            check(status == 200, f"after {delete_page} posted a delete, report {target['id']} still exists ({status})")
            browser.open(report_page)
            try:
                WebDriverWait(driver, 10).until(lambda _: driver.title != "report")
            except TimeoutException:
                raise CheckFailed(f"{report_page} did not finish its request")
            check(driver.title == "sent", f"{report_page} sent its cross-site POST ({driver.title!r})")
            status, listing = api(base_url, "/api/v1/blindspots?status=pending", headers=admin)
            probes = [report["id"] for report in listing["reports"] if report["note"] == "cross-site probe"]
            check(status == 200 and not probes, f"the cross-site POST filed no report ({probes})")
        finally:
            other.stop()

        photo, wordnet_id = photos[4]
        status, error = file_report(base_url, photo, wordnet_id, "Origin probe", headers={"Origin": "http://evil.example"})
        code = (error or {}).get("error", {}).get("code")
        check(status == 403 and code == "cross_site_request", f"a POST with Origin: http://evil.example answers 403 cross_site_request ({status}, {code})")
        status, error = file_report(base_url, photo, wordnet_id, "Origin probe", headers={"Sec-Fetch-Site": "cross-site"})
        code = (error or {}).get("error", {}).get("code")
        check(status == 403 and code == "cross_site_request", f"a POST with Sec-Fetch-Site: cross-site answers 403 cross_site_request ({status}, {code})")
        status, error = api(base_url, f"/api/v1/blindspots/{target['id']}", "PATCH", b'{"status": "approved"}',
                            {**json_headers, "Origin": "http://evil.example"})
        code = (error or {}).get("error", {}).get("code")
        check(status == 403 and code == "cross_site_request", f"even with the admin token, a PATCH from another origin answers 403 ({status}, {code})")
        status, report = file_report(base_url, photo, wordnet_id, "Origin probe")
        check(status == 201, f"the same POST without an Origin header is accepted ({status})")
        status, report = file_report(base_url, photos[5][0], photos[5][1], "Same origin", headers={"Origin": base_url})
        check(status == 201, f"a POST with this server's own Origin is accepted ({status})")

        # 5. A phone: one column, nothing wider than the screen.
        browser.set_viewport(390, 844, mobile=True)
        browser.open(f"{base_url}/blindspots")
        time.sleep(0.5)
        width = driver.execute_script("return document.documentElement.scrollWidth")
        check(width <= 390, f"at 390 px nothing overflows sideways (page width {width} px)")
        columns = driver.execute_script("return getComputedStyle(document.getElementById('report-grid')).gridTemplateColumns.split(' ').length")
        check(columns == 1, f"at 390 px the catalog is one column ({columns})")
        browser.screenshot(out / "catalog-phone.png")

        # 6. No errors in the browser console but the refused cross-site requests, and the icon the browser asks for
        # when it shows the refused form's answer (JSON, so without the pages' <link rel="icon">).
        browser.collect_console()
        expected_failures = re.compile(re.escape(base_url) + "(" + rf"/(admin/blindspots/{target['id']}|api/v1/blindspots) - "
                                       + r"Failed to load resource: the server responded with a status of 403 \(Forbidden\)"
                                       + "|" + r"/favicon\.ico - Failed to load resource: the server responded with a status of 404 \(Not Found\)"
                                       + ")$")
        severe = [entry["message"] for entry in browser.console if entry.get("level") == "SEVERE"]
        unexpected = [message for message in severe if not expected_failures.fullmatch(message)]
        check(not unexpected, f"the browser console has no SEVERE entries but the {len(severe) - len(unexpected)} expected failed loads"
              + ("" if not unexpected else ":\n" + "\n".join(unexpected)))
    finally:
        browser.quit()


def main():
    arguments = parse_arguments()
    shared = shared_folder_or_skip(arguments)
    if shared is None:
        return 0
    out = Path(arguments.out)
    token = secrets.token_urlsafe(24)
    server = Server(arguments.blindspot, shared, arguments.model, out, environment={"BLINDSPOT_ADMIN_TOKEN": token})
    return run_checks(lambda: run(arguments, server.base_url, token, out), server)


if __name__ == "__main__":
    sys.exit(main())
