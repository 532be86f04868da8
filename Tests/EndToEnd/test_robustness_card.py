"""`blindspot eval --robustness-card` on the 100 sample photos with EfficientNet-Lite0, normalised by EfficientNet-Lite1:
the card's numbers are recomputed from its own per-severity errors and records, errors grow with severity as ImageNet-C's
do, and the HTML card (file://, in headless Chromium) shows a heatmap row per corruption, the CE bars and the
reliability diagram, runs no script and logs nothing severe."""
import json
import subprocess

import pytest

from blindspot_harness.corruptions import NAMES

COMMAND_TIMEOUT_S = 1500
# ImageNet-C's order: the 15 of mCE, then the 4 held out.
COMMON, HELD_OUT = list(NAMES[:15]), list(NAMES[15:])


def run_blindspot(binary, arguments, what):
    completed = subprocess.run([str(binary), *arguments], capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S)
    assert completed.returncode == 0, f"{what}: exit status {completed.returncode}\n{completed.stderr[-4000:]}"
    return completed.stdout


@pytest.fixture(scope="module")
def card(blindspot, shared, option, out):
    """The JSON and the HTML of one card run (the HTML rendered from the JSON by `eval merge`), and the terminal's summary,
    kept in --out for people to read."""
    work = out / "robustness-card"
    work.mkdir(parents=True, exist_ok=True)
    for leftover in work.iterdir():  # an interrupted earlier run's progress file would otherwise ask for --resume
        leftover.unlink()
    summary = run_blindspot(blindspot, ["eval", str(shared / "imagenet-sample"), "--robustness-card", "--model", option.model,
                                        "--reference-model", option.second_model, "--out", str(work / "card.json")],
                            "blindspot eval --robustness-card")
    run_blindspot(blindspot, ["eval", "merge", str(work / "card.json"), "--out", str(work / "card.html")], "rendering the card")
    (work / "summary.txt").write_text(summary)
    return json.loads((work / "card.json").read_text()), work / "card.html", summary


def errors_by_corruption(model):
    errors = {}
    for entry in model["robustness"]["corruptions"]:
        errors.setdefault(entry["name"], {})[entry["severity"]] = entry["error"]
    return errors


def test_the_card_covers_every_corruption_and_severity(card, option):
    results, _, summary = card
    assert results["images"] == 100
    models = {model["model"]: model for model in results["models"]}
    assert set(models) == {option.model, option.second_model}, "the reference model is evaluated beside the model"
    for model in models.values():
        errors = errors_by_corruption(model)
        assert sorted(errors) == sorted(COMMON + HELD_OUT) and all(sorted(by) == [1, 2, 3, 4, 5] for by in errors.values())
        for entry in model["robustness"]["corruptions"]:
            assert abs(entry["error"] + entry["top1"] - 1) < 1e-12 and 0 <= entry["error"] <= 1
    assert "reference-normalised" in summary.lower() or "reference-normalised mean ce" in summary.lower(), summary


def test_ce_and_its_means_equal_the_errors_recomputed_here(card, option):
    results, _, _ = card
    models = {model["model"]: model for model in results["models"]}
    ours, reference = errors_by_corruption(models[option.model]), errors_by_corruption(models[option.second_model])
    card_ = models[option.model]["robustness"]
    assert "mCE" not in card_ and "relativeMCE" not in card_, "a folder that is not ImageNet-val never gets an mCE"
    expected = {name: sum(ours[name].values()) / sum(reference[name].values()) for name in COMMON + HELD_OUT
                if sum(reference[name].values()) > 0}
    for name, value in expected.items():
        assert card_["ce"][name] == pytest.approx(value, rel=1e-9), name
    assert card_["referenceMCE"] == pytest.approx(sum(expected[name] for name in COMMON) / len(COMMON), rel=1e-9)
    reference_card = models[option.second_model]["robustness"]
    assert all(value == pytest.approx(1.0) for value in reference_card["ce"].values()), "the reference's own CEs are 1"


def test_errors_grow_with_severity_and_the_clean_crop_is_near_clean(card, option):
    results, _, _ = card
    model = next(model for model in results["models"] if model["model"] == option.model)
    errors = errors_by_corruption(model)
    growing = [name for name in COMMON if errors[name][5] > errors[name][1]]
    # ImageNet-C's severities are ordered for every corruption; on 100 photos a few may tie or cross by noise.
    assert len(growing) >= 13, f"severity 5 costs more than severity 1 for {growing}"
    mean_error = {severity: sum(errors[name][severity] for name in COMMON) / len(COMMON) for severity in range(1, 6)}
    assert mean_error[1] < mean_error[3] < mean_error[5], mean_error
    clean = [record for record in results["records"] if record["model"] == option.model and record.get("transform") is None]
    crop = [record for record in results["records"] if record["model"] == option.model and record.get("transform") == "imagenet-c:clean"]
    assert len(clean) == len(crop) == 100
    clean_top1 = sum(record["top5"][0] == record["truth"] for record in clean) / 100
    crop_top1 = sum(record["top5"][0] == record["truth"] for record in crop) / 100
    assert abs(clean_top1 - crop_top1) <= 0.1, f"the 256/224 crop ({crop_top1}) is close to the model's own pipeline ({clean_top1})"
    assert mean_error[5] > 1 - crop_top1 + 0.2, "severity 5 costs at least 20 points over the clean crop"


def test_ece_equals_its_bins(card, option):
    results, _, _ = card
    model = next(model for model in results["models"] if model["model"] == option.model)
    bins = model["robustness"]["reliability"]
    assert len(bins) == 15 and sum(b["count"] for b in bins) == 100
    ece = sum(b["count"] / 100 * abs(b["accuracy"] - b["confidence"]) for b in bins if b["count"] > 0)
    assert model["robustness"]["ece"] == pytest.approx(ece, abs=1e-9)


def test_the_card_in_a_browser(browser, card, option, out):
    _, page, _ = card
    html = page.read_text()
    assert "<script" not in html, "the page has no script"
    browser.open(page.resolve().as_uri())
    cards = browser.find_all("article.robustness-card")
    assert len(cards) == 2, f"one card per model ({len(cards)})"
    rows = browser.js("return Array.from(document.querySelectorAll('article.robustness-card')[0].querySelectorAll('table tbody tr'))"
                      ".map(row => row.querySelector('th') ? row.querySelector('th').textContent : '')")
    assert sum(1 for row in rows if row.strip()) >= 19, f"a heatmap row per corruption ({rows})"
    charts = browser.js("return Array.from(document.querySelectorAll('article.robustness-card svg'))"
                        ".map(svg => svg.getBoundingClientRect().width)")
    assert len(charts) >= 4 and all(width > 100 for width in charts), f"CE bars and a reliability diagram per model, drawn ({charts})"
    browser.screenshot(out / "robustness-card.png", whole_page=False)
    severe = browser.severe_console_entries()
    assert not severe, "the browser console has no SEVERE entries:\n" + "\n".join(severe)
