"""Issue 16's page checks in headless Chromium at 1280 and 390 px: no sideways scrolling, /api complete, the models
here, the expected class everywhere, a model switch, a one-line header on a phone, errors in view, big photos."""
import re
import time
import urllib.parse

import pytest

from blindspot_harness.api import call, post
from blindspot_harness.browser import wait_for_result
from blindspot_harness.images import BIG_SIZE, big_jpeg, noisy_png

PAGES = ("/", "/examples/15", "/api", "/blindspots")
WIDE = (1280, 900)
PHONE = (390, 844)
HUSKY_PHOTO = "n02110185_Siberian_husky.JPEG"
HUSKY = "Siberian husky"
# 10000×6000 scaled so that its longer side is the page's 4096 px (6000 × 0.4096 = 2457.6).
BIG_SCALED = (4096, 2458)


@pytest.fixture(scope="module")
def default_model(demo_server):
    answer = call(demo_server.base_url, "/api/v1/models")
    default = next((model["name"] for model in answer.json if model.get("default")), None)
    assert answer.status == 200 and default, f"the server names its default model ({default})"
    return default


def at(browser, size):
    browser.set_viewport(*size, mobile=size == PHONE)


@pytest.mark.parametrize("size", [WIDE, PHONE], ids=["1280", "390"])
def test_no_page_scrolls_sideways(browser, demo_server, size):
    at(browser, size)
    for path in PAGES:
        browser.open(f"{demo_server.base_url}{path}")
        if path.startswith("/examples/"):
            wait_for_result(browser, path)
        scroll_width, inner = browser.js("return [document.documentElement.scrollWidth, innerWidth]")
        assert scroll_width <= inner, f"at {size[0]} px {path} does not scroll sideways (page {scroll_width} px, window {inner} px)"


def test_api_page_documents_every_operation(browser, demo_server, default_model):
    at(browser, WIDE)
    document = call(demo_server.base_url, "/openapi.json").json
    operations = [f"{method.upper()} {path}" for path, item in document["paths"].items()
                  for method in item if method in ("get", "post", "put", "patch", "delete")]
    browser.open(f"{demo_server.base_url}/api")
    headings = [heading.text.strip() for heading in browser.find_all(".endpoint h2")]
    missing = [operation for operation in operations if operation not in headings]
    assert not missing and len(headings) == len(operations), \
        f"/api documents each of the {len(operations)} operations of /openapi.json once (missing: {missing})"
    assert any(h.startswith("POST /api/v1/probe") for h in headings) and any(h.startswith("POST /api/v1/explain") for h in headings), \
        "/api documents probe and explain"
    endpoints, errors = browser.js("return [document.querySelector('.endpoint').getBoundingClientRect().top,"
                                   " document.querySelector('table.errors').getBoundingClientRect().top]")
    assert endpoints < errors, f"/api lists the endpoints before the error table ({endpoints:.0f} < {errors:.0f})"
    samples = " ".join(code.text for code in browser.find_all(".endpoint pre"))
    named = set(re.findall(r"efficientnet_lite\d|inception_v3", samples))
    assert named == {default_model}, f"/api's examples name the server's default model and no other ({sorted(named)})"


def test_page_says_the_posts_model_is_missing_and_how_to_add_it(browser, demo_server):
    at(browser, WIDE)
    browser.open(f"{demo_server.base_url}/")
    note = browser.text("#post-model-note")
    assert "Inception v3" in note and "blindspot models fetch inception_v3" in note and "--weights inception_v3=FILE" in note, \
        f"the page says the post's model is not installed and how to add it ({note[:80]!r}…)"
    others = browser.text("#other-models")
    assert others.startswith("Other models Blindspot knows, not loaded here:") and "Also in the catalog" not in browser.driver.page_source, \
        f"the other models are not called a catalog ({others[:60]!r}…)"


def test_one_expected_class_for_the_page(browser, demo_server, shared):
    """Submit ranks it, Explain offers and explains it with the server's caption, Flag starts with it, and a near
    miss gets the server's suggestions as buttons and in the list while typing."""
    from selenium.webdriver.support.ui import Select

    at(browser, WIDE)
    husky = shared / "imagenet-sample" / HUSKY_PHOTO
    assert husky.is_file(), f"{husky} is there"
    browser.open(f"{demo_server.base_url}/")
    browser.find("#file-input").send_keys(str(husky))
    browser.until(lambda: browser.find("#submit").is_enabled(), f"{husky.name} loading")
    browser.find("#expected-class").send_keys(HUSKY)
    browser.find("#submit").click()
    wait_for_result(browser, husky.name)
    rank = browser.text("#expected-rank")
    assert re.fullmatch(rf"Expected class ‘{HUSKY}’ is ranked #\d+ \([\d.<]+%\)", rank), f"Submit shows the expected class's rank ({rank!r})"
    answer = browser.text("#result .top-label")
    choices = [option.text for option in Select(browser.find("#explain-class")).options]
    assert choices == [f"the answer ({answer})", f"the expected class ({HUSKY})"], f"Explain offers the answer or the expected class ({choices})"
    Select(browser.find("#explain-class")).select_by_value("expected")
    browser.find("#explain").click()
    browser.until(lambda: browser.find("#explain-output").get_attribute("aria-busy") == "false", "the explanation of the expected class")
    assert not browser.text("#explain-error"), f"the explanation has no error ({browser.text('#explain-error')!r})"
    explained = browser.text("#explain-output .heatmap-class")
    assert explained.startswith(f"‘{HUSKY}’"), f"Explain explains the expected class ({explained!r})"
    legend = browser.text("#explain-output .heatmap-legend")
    explanations = post(demo_server.base_url, f"/api/v1/explain?{urllib.parse.urlencode({'class': HUSKY})}", husky.read_bytes(),
                        "image/jpeg", headers={"Accept": "application/json"})
    caption = explanations.json[0].get("caption") if explanations.status == 200 and explanations.json else None
    assert caption and legend == caption, f"the heatmap's legend is the server's caption ({legend!r}; the API: {caption!r})"

    browser.find("#flag").click()
    browser.until(lambda: browser.js("return document.getElementById('flag-dialog').open"), "the flag dialog opening")
    flag_class = browser.find("#flag-class").get_attribute("value")
    assert flag_class == HUSKY, f"Flag's correct class starts with the expected class ({flag_class!r})"
    browser.find("#flag-class").clear()
    browser.find("#flag-class").send_keys("husky")
    browser.find("#flag-submit").click()
    browser.until(lambda: browser.text("#flag-error"), "the flag's error for 'husky'")
    offered = [button.text for button in browser.find_all("#flag-suggestions button")]
    assert {HUSKY, "Eskimo dog"} <= set(offered), f"Flag offers the suggestions for 'husky' too ({offered})"
    browser.find("#flag-cancel").click()

    field = browser.find("#expected-class")
    field.clear()
    field.send_keys("husky")
    browser.find("#submit").click()
    browser.until(lambda: browser.text("#error"), "the error for 'husky'")
    suggestions = [button.text for button in browser.find_all("#expected-suggestions button")]
    assert {HUSKY, "Eskimo dog"} <= set(suggestions), f"'husky' gets 'did you mean' buttons ({suggestions})"
    listed_classes = lambda: browser.js("return Array.from(document.querySelectorAll('#imagenet-classes option'), (option) => option.value)")
    browser.until(lambda: 0 < len(listed_classes()) <= 8, "the class list narrowing to the server's matches")
    listed = listed_classes()
    assert HUSKY in listed, f"while typing, the class list holds the server's matches ({listed})"
    next(button for button in browser.find_all("#expected-suggestions button") if button.text == HUSKY).click()
    assert field.get_attribute("value") == HUSKY, f"a suggestion fills the field ({field.get_attribute('value')!r})"
    browser.find("#submit").click()
    wait_for_result(browser, f"{husky.name} with the suggestion")
    assert browser.text("#expected-rank").startswith(f"Expected class ‘{HUSKY}’"), "the suggestion is then ranked"


def test_choosing_another_model_classifies_again(browser, demo_server):
    from selenium.webdriver.support.ui import Select

    at(browser, WIDE)
    browser.open(f"{demo_server.base_url}/examples/15")
    wait_for_result(browser, "/examples/15")
    menu = Select(browser.find("#model-select"))
    chosen = browser.find("#model-select").get_attribute("value")
    other = next((option.get_attribute("value") for option in menu.options if option.get_attribute("value") != chosen), None)
    assert other, f"the server offers a second model to switch to ({other})"
    menu.select_by_value(other)
    browser.until(lambda: browser.text("#result .answered-by") == f"{other} sees", f"the answer of {other}")


def test_api_error_codes_do_not_break_on_a_phone(browser, demo_server):
    at(browser, PHONE)
    browser.open(f"{demo_server.base_url}/api")
    broken = browser.js("return Array.from(document.querySelectorAll('table.errors code'))"
                        ".filter((code) => code.getClientRects().length > 1"
                        " || code.getBoundingClientRect().height > 2 * parseFloat(getComputedStyle(code).fontSize))"
                        ".map((code) => code.textContent)")
    codes = len(browser.find_all("table.errors code"))
    assert codes > 20 and not broken, f"at 390 px none of /api's {codes} error codes breaks across lines ({broken})"


def test_header_is_one_line_on_a_phone(browser, demo_server):
    at(browser, PHONE)
    browser.open(f"{demo_server.base_url}/")
    header = browser.js("""const header = document.querySelector('header.site');
        const brand = header.querySelector('.brand');
        const tops = Array.from(header.querySelectorAll('nav a'), (link) => link.getBoundingClientRect().top);
        return {height: header.getBoundingClientRect().height, brandLines: brand.getClientRects().length,
                brandHeight: brand.getBoundingClientRect().height, spread: Math.max(...tops) - Math.min(...tops),
                linkLines: Math.max(...Array.from(header.querySelectorAll('nav a'), (link) => link.getClientRects().length))};""")
    assert header["height"] <= 60 and header["brandLines"] == 1 and header["brandHeight"] <= 32 and header["spread"] <= 2 \
        and header["linkLines"] == 1, f"at 390 px the header is one line ({header})"


def test_answer_follows_the_image_on_a_phone(browser, demo_server, out):
    at(browser, PHONE)
    browser.open(f"{demo_server.base_url}/examples/15")
    wait_for_result(browser, "/examples/15 at 390 px")
    image_bottom, answer_top, height = browser.js(
        "return [document.querySelector('#canvas').getBoundingClientRect().bottom + scrollY,"
        " document.querySelector('#result .answered-by').getBoundingClientRect().top + scrollY, innerHeight]")
    assert image_bottom <= answer_top <= 1.2 * height, \
        (f"at 390 px /examples/15's answer comes after the image and within 1.2 screens (image ends at {image_bottom:.0f}, "
         f"the answer starts at {answer_top:.0f}, 1.2 screens = {1.2 * height:.0f} px)")
    browser.screenshot(out / "after-example15-390.png")


def test_error_of_a_bad_file_is_in_view_on_a_phone(browser, demo_server, out, tmp_path):
    at(browser, PHONE)
    browser.open(f"{demo_server.base_url}/")
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a jpeg at all" * 100)
    browser.js("window.scrollTo(0, 0)")
    browser.find("#file-input").send_keys(str(broken))
    browser.until(lambda: browser.text("#error"), "the error for a broken file")
    time.sleep(0.6)  # scrollIntoView
    top, bottom, height = browser.js("const r = document.getElementById('error').getBoundingClientRect(); return [r.top, r.bottom, innerHeight]")
    assert 0 <= top and bottom <= height, f"at 390 px the error is in view after a bad file ({browser.text('#error')!r} at {top:.0f}–{bottom:.0f} of {height})"
    browser.screenshot(out / "after-bad-file-390.png")


def test_big_photo_is_scaled_in_the_browser_and_classified(browser, demo_server, out, tmp_path):
    at(browser, PHONE)
    big = big_jpeg(tmp_path)
    browser.open(f"{demo_server.base_url}/")
    browser.find("#file-input").send_keys(str(big))
    browser.until(lambda: browser.find("#submit").is_enabled() or browser.text("#error"), "the big photo loading")
    info = browser.text("#image-info")
    wanted = f"scaled from {BIG_SIZE[0]}×{BIG_SIZE[1]} to {BIG_SCALED[0]}×{BIG_SCALED[1]}"
    assert wanted in info, f"the page says the big photo was scaled ({info!r})"
    browser.find("#submit").click()
    wait_for_result(browser, "the scaled 10000×6000 photo")
    browser.screenshot(out / "after-big-upload-390.png")


def test_png_over_the_body_limit_is_sent_as_jpeg(browser, demo_server, tmp_path):
    """Within the pixel limits but over the body limit: re-encoded as JPEG in the browser, then classified."""
    at(browser, PHONE)
    browser.open(f"{demo_server.base_url}/")
    limit = int(re.search(r'"maximumBodyBytes":(\d+)', browser.driver.page_source)[1])
    heavy = noisy_png(tmp_path, limit / 1048576)
    assert heavy.stat().st_size > limit, f"{heavy.name} ({heavy.stat().st_size} bytes) is over the {limit}-byte limit"
    browser.find("#file-input").send_keys(str(heavy))
    browser.until(lambda: browser.find("#submit").is_enabled() or browser.text("#error"), "the heavy PNG loading")
    info = browser.text("#image-info")
    assert "so it is sent re-encoded as JPEG" in info, f"the page says the heavy PNG is re-encoded ({info!r})"
    browser.find("#submit").click()
    wait_for_result(browser, "the re-encoded PNG")


def test_console_has_no_severe_entries_but_the_deliberate_422s(browser, demo_server):
    severe = [message for message in browser.severe_console_entries() if "status of 422" not in message]
    assert not severe, "the browser console has no SEVERE entries but the deliberate 422s:\n" + "\n".join(severe)
