"""The catalog of blind spots in headless Chromium against a server with an admin token: hostile text shown as text,
moderation, the category filter, no cross-site requests (even with the admin's session), one column on a phone."""
import http.server
import re
import threading
import time
from functools import partial

import pytest

from blindspot_harness.api import call, multipart
from blindspot_harness.paths import sample_photos
from blindspot_harness.server import free_port

HOSTILE_NOTE = """<img src=x onerror="document.title='pwned'"><script>document.title='pwned'</script>"""
HOSTILE_CATEGORY = "<b onmouseover=alert(1)>Hostile</b> cats"
HOSTILE_REPORTER = '"><svg onload=alert(1)>'
# What the server makes of the hostile category's title (Category.slug(for:)).
HOSTILE_CATEGORY_SLUG = "b-onmouseover-alert-1-hostile-b-cats"
# Elements and attributes the hostile strings would create if they were parsed as HTML.
INJECTED_SELECTOR = "img[src='x'], svg, b[onmouseover], [onerror], [onload], [onmouseover], script:not([src])"
CROSS_SITE_WAIT_S = 3


@pytest.fixture(scope="module")
def catalog_server(serve, admin_token):
    with serve("catalog", environment={"BLINDSPOT_ADMIN_TOKEN": admin_token}) as server:
        yield server


@pytest.fixture(scope="module")
def base_url(catalog_server):
    return catalog_server.base_url


@pytest.fixture(scope="module")
def photos(shared):
    """The sample photos with their class (the WordNet id that starts each file name)."""
    photos = sample_photos(shared)
    assert len(photos) >= 6, f"{shared / 'imagenet-sample'} has at least 6 photos ({len(photos)})"
    return [(path, path.name.split("_", 1)[0]) for path in photos]


@pytest.fixture(scope="module")
def admin(admin_token):
    return {"Authorization": f"Bearer {admin_token}"}


def file_report(base_url, photo, expected, note="", category="", reporter="", headers=None):
    """POST /api/v1/blindspots with a multipart form."""
    fields = [("image", photo.name, photo.read_bytes()), ("expected", None, expected.encode()), ("note", None, note.encode())]
    fields += [(name, None, value.encode()) for name, value in (("category", category), ("reporter", reporter)) if value]
    body, content_type = multipart(fields)
    return call(base_url, "/api/v1/blindspots", "POST", body, {"Content-Type": content_type, **(headers or {})})


def listed_ids(base_url, query=""):
    answer = call(base_url, f"/api/v1/blindspots{query}")
    assert answer.status == 200, f"GET /api/v1/blindspots{query} answers 200 ({answer.status})"
    return [report["id"] for report in answer.json["reports"]]


@pytest.fixture(scope="module")
def hostile_reports(base_url, photos):
    """Two reports with hostile text, filed through the API."""
    return [file_report(base_url, photo, wordnet_id, HOSTILE_NOTE, HOSTILE_CATEGORY, HOSTILE_REPORTER) for photo, wordnet_id in photos[:2]]


def test_hostile_reports_are_kept_verbatim_and_wait_for_review(hostile_reports):
    for answer in hostile_reports:
        assert answer.status == 201, f"POST /api/v1/blindspots files a new report ({answer.status}: {answer.data[:300]!r})"
        report = answer.json
        assert report["note"] == HOSTILE_NOTE and report["reporter"] == HOSTILE_REPORTER and report["categoryTitle"] == HOSTILE_CATEGORY \
            and report["category"] == HOSTILE_CATEGORY_SLUG, f"report {report['id']} keeps the note, name and new category verbatim ({report['category']!r})"
        assert report["status"] == "pending" and report["confirmations"] == 1, f"report {report['id']} is pending, reported once"


def test_same_photo_and_class_confirms_the_report(base_url, photos, hostile_reports):
    first = hostile_reports[0].json["id"]
    answer = file_report(base_url, photos[0][0], photos[0][1], "the same again")
    assert answer.status == 200 and answer.json["id"] == first and answer.json["confirmations"] == 2, \
        f"the same photo with the same class confirms report {first} ({answer.status}, {answer.json.get('confirmations')} confirmations)"


def test_pending_reports_are_not_listed(base_url, hostile_reports):
    assert not {answer.json["id"] for answer in hostile_reports} & set(listed_ids(base_url)), "pending reports are not listed publicly"


def test_moderation_needs_the_admin_token(base_url, hostile_reports):
    status = call(base_url, f"/api/v1/blindspots/{hostile_reports[0].json['id']}", "PATCH", b'{"status": "approved"}',
                  {"Content-Type": "application/json"}).status
    assert status in (401, 403), f"PATCH without the admin token is refused ({status})"


@pytest.fixture(scope="module")
def approved_ids(base_url, hostile_reports, admin):
    """The hostile reports, approved with the admin token."""
    identifiers = [answer.json["id"] for answer in hostile_reports]
    for identifier in identifiers:
        answer = call(base_url, f"/api/v1/blindspots/{identifier}", "PATCH", b'{"status": "approved"}', {**admin, "Content-Type": "application/json"})
        assert answer.status == 200 and answer.json["status"] == "approved", f"PATCH /api/v1/blindspots/{identifier} approves it ({answer.status})"
    return identifiers


def test_approved_reports_are_listed(base_url, approved_ids):
    assert set(approved_ids) <= set(listed_ids(base_url)), "approved reports are listed publicly"


def check_nothing_ran(browser, where):
    assert browser.driver.title != "pwned", f"{where}: the hostile text did not change the title ({browser.driver.title!r})"
    assert browser.open_alert() is None, f"{where}: no alert is open ({browser.open_alert()!r})"
    injected = browser.js(f"return Array.from(document.querySelectorAll({INJECTED_SELECTOR!r})).map(e => e.outerHTML)")
    assert not injected, f"{where}: no element or handler came from the hostile text ({injected[:3]})"


def test_catalog_shows_hostile_text_as_text(browser, base_url, approved_ids, option, out):
    browser.open(f"{base_url}/blindspots")
    assert browser.text("#report-grid").count(HOSTILE_CATEGORY) == 2, "/blindspots shows the hostile category's title as text on both cards"
    assert all(browser.find_all(f"#report-{identifier}") for identifier in approved_ids), "/blindspots has a card for each approved report"
    notes = browser.js("return Array.from(document.querySelectorAll('#report-grid .report-note')).map(e => e.textContent)")
    assert notes.count(HOSTILE_NOTE) == 2, "the cards hold the hostile note as text"
    verdict = browser.text(f"#report-{approved_ids[0]} .verdict-list li")
    assert re.fullmatch(rf"{re.escape(option.model)}\s*(✗\s*Blind spot holds|✓\s*Fixed|✓\s*Not fooled)\s*"
                        + r"sees .+ <?[\d.]+% · Expected class ranked #\d+", verdict), \
        f"a card says what {option.model} sees now and whether the blind spot holds ({verdict!r})"
    check_nothing_ran(browser, "/blindspots")
    browser.screenshot(out / "catalog.png")


def test_report_page_shows_hostile_text_as_text(browser, base_url, approved_ids, option, out):
    report_id = approved_ids[0]
    browser.open(f"{base_url}/blindspots/{report_id}")
    assert browser.text("#report-note") == HOSTILE_NOTE, f"/blindspots/{report_id} shows the note verbatim ({browser.text('#report-note')!r})"
    assert browser.text("#report-reporter") == HOSTILE_REPORTER, f"/blindspots/{report_id} shows the reporter verbatim"
    assert HOSTILE_CATEGORY in browser.text(".facts"), f"/blindspots/{report_id} shows the category's title verbatim"
    rows = browser.find_all(".verdict-table tbody tr")
    assert len(rows) == 1 and browser.find_all("th .model-name", rows[0])[0].text == option.model, \
        f"/blindspots/{report_id} has a row of verdicts for {option.model} ({len(rows)} rows)"
    reported = browser.find_all("td[data-label='When reported']", rows[0])[0]
    # The widths app.js gives the bars (their rendered width is still growing in a transition).
    bars = [float(browser.js("return arguments[0].style.width", bar).rstrip("%") or "nan") for bar in browser.find_all(".bar", reported)]
    assert len(bars) == 5 and bars[0] > 0 and all(a >= b for a, b in zip(bars, bars[1:])), \
        f"the verdict when reported shows the top 5 with decreasing bars ({', '.join(f'{bar:.1f}%' for bar in bars)})"
    assert re.search(r"Expected class ranked #\d+ \(<?[\d.]+%\)\nWeights [0-9a-f]{12} · ", reported.text), \
        f"the verdict gives the expected class's rank and the weights ({reported.text.splitlines()[-2:]})"
    share = browser.find("#share-link").get_attribute("value")
    assert share == f"{base_url}/blindspots/{report_id}", f"the report's link is shown ({share})"
    check_nothing_ran(browser, f"/blindspots/{report_id}")
    browser.screenshot(out / "report.png")


def test_category_filter_lists_the_categorys_reports(browser, base_url, approved_ids):
    from selenium.webdriver.support.ui import Select

    browser.open(f"{base_url}/blindspots")
    Select(browser.find("#filter-category")).select_by_value(HOSTILE_CATEGORY_SLUG)
    browser.find("#filters button[type=submit]").click()
    browser.until(lambda: "category=" in browser.driver.current_url, "the filtered catalog loading")
    cards = sorted(int(card.get_attribute("id").removeprefix("report-")) for card in browser.find_all(".report-card"))
    assert cards == sorted(approved_ids), f"filtering by the hostile category lists its two reports ({cards})"
    assert browser.find("#filter-category").get_attribute("value") == HOSTILE_CATEGORY_SLUG, "the filter keeps its category selected"


@pytest.fixture(scope="module")
def admin_session(browser, base_url, admin_token, photos, out):
    """Logs the browser in at /admin with a pending report in the queue; (that report, the session's CSRF token)."""
    photo, wordnet_id = photos[2]
    answer = file_report(base_url, photo, wordnet_id, "Waiting for an admin.")
    assert answer.status == 201 and answer.json["status"] == "pending", f"a report is filed and pending ({answer.status})"
    pending = answer.json
    browser.open(f"{base_url}/admin")
    browser.find("#admin-token").send_keys(admin_token)
    browser.find("#login-submit").click()
    browser.until(lambda: browser.find_all(f"#queue-{pending['id']}"),
                  lambda: f"/admin listing report {pending['id']} after logging in ({browser.driver.current_url}: {browser.text('main')[:300]!r})")
    browser.screenshot(out / "admin.png")
    return pending, browser.find("#logout-form input[name=csrf]").get_attribute("value")


def test_login_needs_the_login_pages_token(base_url, admin_token):
    status = call(base_url, "/admin/login", "POST", f"token={admin_token}".encode(), {"Content-Type": "application/x-www-form-urlencoded"}).status
    assert status == 403, f"a login posted without the login page's token is refused, even with the right admin token ({status})"


def test_admin_approves_a_report_with_its_button(browser, base_url, admin_session):
    pending, _ = admin_session
    browser.find(f"#moderate-{pending['id']} button[value=approve]").click()
    browser.until(lambda: browser.find_all("#flash"), "the message after Approve")
    assert not browser.find_all(f"#queue-{pending['id']}"), f"after Approve, report {pending['id']} left the queue ({browser.text('#flash')!r})"
    report = call(base_url, f"/api/v1/blindspots/{pending['id']}").json
    assert report["status"] == "approved", f"report {pending['id']} is approved ({report['status']})"
    browser.open(f"{base_url}/blindspots")
    assert browser.find_all(f"#report-{pending['id']}"), f"/blindspots now lists report {pending['id']}"


class OtherOrigin:
    """A plain static HTTP server on another port of 127.0.0.1: another origin, serving the attacker's pages."""

    def __init__(self, directory, log):
        self.directory, self.log = directory, log
        handler = partial(LoggingHandler, self.log, directory=str(directory))
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def add(self, name, html):
        (self.directory / name).write_text(html)
        return f"{self.base_url}/{name}"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class LoggingHandler(http.server.SimpleHTTPRequestHandler):
    def __init__(self, log, *arguments, **keywords):
        self.log = log
        super().__init__(*arguments, **keywords)

    def log_message(self, format, *arguments):
        self.log.write(format % arguments + "\n")


@pytest.fixture(scope="module")
def other_origin(out, tmp_path_factory):
    with open(out / "other-origin.log", "w") as log:
        origin = OtherOrigin(tmp_path_factory.mktemp("other-origin"), log)
        yield origin
        origin.stop()


@pytest.fixture(scope="module")
def cross_site_target(base_url, photos):
    photo, wordnet_id = photos[3]
    answer = file_report(base_url, photo, wordnet_id, "Target of a cross-site delete.")
    assert answer.status == 201, f"the target report is filed ({answer.status})"
    return answer.json


def test_another_origin_cannot_act_with_the_admins_session(browser, base_url, admin, admin_session, other_origin, cross_site_target):
    """A form that deletes a report (with the admin's real CSRF token, so that only the origin check stands in the
    way), and a script that files a report with a drawn image (a no-cors multipart POST needs no preflight)."""
    target = cross_site_target["id"]
    delete_page = other_origin.add("delete.html", f"""<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>delete</title></head><body>
<form id="attack" method="post" action="{base_url}/admin/blindspots/{target}">
<input name="action" value="delete"><input name="return" value="/admin"><input name="csrf" value="{admin_session[1]}">
</form>
<script>document.getElementById('attack').submit();</script>
</body></html>
""")
    report_page = other_origin.add("report.html", f"""<!doctype html>
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
    browser.open(delete_page)
    time.sleep(CROSS_SITE_WAIT_S)
    status = call(base_url, f"/api/v1/blindspots/{target}", headers=admin).status
    assert status == 200, f"after {delete_page} posted a delete, report {target} still exists ({status})"
    browser.open(report_page)
    browser.until(lambda: browser.driver.title != "report", f"{report_page} finishing its request", timeout=10)
    assert browser.driver.title == "sent", f"{report_page} sent its cross-site POST ({browser.driver.title!r})"
    answer = call(base_url, "/api/v1/blindspots?status=pending", headers=admin)
    probes = [report["id"] for report in answer.json["reports"] if report["note"] == "cross-site probe"]
    assert answer.status == 200 and not probes, f"the cross-site POST filed no report ({probes})"


def test_cross_site_requests_are_refused(base_url, photos, admin, cross_site_target):
    photo, wordnet_id = photos[4]
    for headers in ({"Origin": "http://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
        answer = file_report(base_url, photo, wordnet_id, "Origin probe", headers=headers)
        assert answer.status == 403 and answer.code == "cross_site_request", f"a POST with {headers} answers 403 cross_site_request ({answer.status}, {answer.code})"
    answer = call(base_url, f"/api/v1/blindspots/{cross_site_target['id']}", "PATCH", b'{"status": "approved"}',
                  {**admin, "Content-Type": "application/json", "Origin": "http://evil.example"})
    assert answer.status == 403 and answer.code == "cross_site_request", \
        f"even with the admin token, a PATCH from another origin answers 403 ({answer.status}, {answer.code})"
    status = file_report(base_url, photo, wordnet_id, "Origin probe").status
    assert status == 201, f"the same POST without an Origin header is accepted ({status})"
    status = file_report(base_url, photos[5][0], photos[5][1], "Same origin", headers={"Origin": base_url}).status
    assert status == 201, f"a POST with this server's own Origin is accepted ({status})"


def test_catalog_is_one_column_on_a_phone(browser, base_url, approved_ids, out):
    browser.set_viewport(390, 844, mobile=True)
    browser.open(f"{base_url}/blindspots")
    time.sleep(0.5)
    width = browser.js("return document.documentElement.scrollWidth")
    assert width <= 390, f"at 390 px nothing overflows sideways (page width {width} px)"
    columns = browser.js("return getComputedStyle(document.getElementById('report-grid')).gridTemplateColumns.split(' ').length")
    assert columns == 1, f"at 390 px the catalog is one column ({columns})"
    browser.screenshot(out / "catalog-phone.png")
    browser.set_viewport(1280, 900)


def test_console_has_no_severe_entries_but_the_refused_cross_site_requests(browser, base_url, cross_site_target):
    """And the icon the browser asks for when it shows the refused form's answer (JSON, so without the pages' icon)."""
    expected_failures = re.compile(re.escape(base_url) + "(" + rf"/(admin/blindspots/{cross_site_target['id']}|api/v1/blindspots) - "
                                   + r"Failed to load resource: the server responded with a status of 403 \(Forbidden\)"
                                   + "|" + r"/favicon\.ico - Failed to load resource: the server responded with a status of 404 \(Not Found\)"
                                   + ")$")
    severe = browser.severe_console_entries()
    unexpected = [message for message in severe if not expected_failures.fullmatch(message)]
    assert not unexpected, f"the browser console has no SEVERE entries but the {len(severe) - len(unexpected)} expected failed loads:\n" + "\n".join(unexpected)
