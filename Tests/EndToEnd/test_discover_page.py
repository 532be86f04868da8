"""`blindspot discover --out page.html` on the sample photos: the page (file://, in headless Chromium) has a card per
slice and a map of the features, its thumbnails decode, it runs no script and logs nothing severe; the JSON of the
same run agrees with it. Results with slices, interventions and several models validate against docs/discover.schema.json."""
import copy
import csv
import json
import subprocess
from pathlib import Path

import jsonschema
import pytest
from PIL import Image, ImageFilter

COMMAND_TIMEOUT_S = 900
SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "discover.schema.json"
# ImageNet's 118 dog breeds, the classes under WordNet's 'dog', are class indices 151-268.
DOG_CLASSES = range(151, 269)


def discover(blindspot, folder, out, *arguments):
    completed = subprocess.run([str(blindspot), "discover", str(folder), *arguments, "--out", str(out)],
                               capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S)
    assert completed.returncode == 0, f"blindspot discover: exit status {completed.returncode}\n{completed.stderr[-4000:]}"
    return out


@pytest.fixture(scope="module")
def discovered(blindspot, shared, option, tmp_path_factory):
    """The page and the JSON of one discover run each (same seed, so the same slices)."""
    work = tmp_path_factory.mktemp("discover")
    outputs = {name: discover(blindspot, shared / "imagenet-sample", work / name, "--model", option.model, "--min-size", "5", "--seed", "3")
               for name in ("page.html", "results.json")}
    return outputs["page.html"], json.loads(outputs["results.json"].read_text())


@pytest.fixture(scope="module")
def planted(blindspot, shared, option, tmp_path_factory):
    """The JSON of discover with two models on three crops of every sample photo, the dogs blurred (Gaussian, radius
    6): confirmed slices with interventions, and every model's error on each."""
    work = tmp_path_factory.mktemp("planted")
    with open(shared / "imagenet-classes.tsv", newline="") as table:
        classes = {row["wnid"]: int(row["index"]) for row in csv.DictReader(table, delimiter="\t")}
    for photo in sorted((shared / "imagenet-sample").glob("*.JPEG")):
        wnid = photo.name.split("_")[0]
        image = Image.open(photo).convert("RGB")
        if classes[wnid] in DOG_CLASSES:
            image = image.filter(ImageFilter.GaussianBlur(6))
        folder = work / "folder" / wnid
        folder.mkdir(parents=True, exist_ok=True)
        width, height = image.size
        for number, box in enumerate([(0, 0, width, height), (width // 10, height // 10, width, height), (0, 0, width * 9 // 10, height * 9 // 10)]):
            image.crop(box).save(folder / f"{photo.stem}-{number}.jpg", quality=92)
    out = discover(blindspot, work / "folder", work / "results.json", "--model", option.model, "--model", option.second_model,
                   "--min-size", "5", "--seed", "1")
    return json.loads(out.read_text())


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


def test_page_has_a_map_of_the_features(browser, discovered):
    page, results = discovered
    browser.open(page.resolve().as_uri())
    model = results["models"][0]
    maps = browser.find_all("figure.discovery-map svg")
    assert len(maps) == 1, "one map for the one model"
    right = browser.js("return document.querySelectorAll('.discovery-map .map-right circle').length")
    wrong = browser.js("return document.querySelectorAll('.discovery-map .map-wrong circle').length")
    expected_wrong = sum(record["label"] != answer["predicted"] for record, answer in zip(results["records"], model["answers"]))
    assert (right + wrong, wrong) == (len(results["records"]), expected_wrong), "every image is a dot, the wrong ones red"
    ringed = browser.js("return Array.from(document.querySelectorAll('.discovery-map .map-slice')).map(g => g.dataset.slice)")
    assert ringed == [s["id"] for s in model["slices"][:len(ringed)]] and 0 < len(ringed) <= 6, f"the first slices are ringed ({ringed})"


def test_results_match_their_schema(discovered, planted):
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text()))
    _, sample = discovered
    for name, results in (("sample", sample), ("planted", planted)):
        problems = [f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in validator.iter_errors(results)]
        assert not problems, f"{name}: " + "\n".join(problems[:20])
    # The planted run has what the schema describes beyond the sample's: interventions, rules, transfer rows.
    slices = [s for model in planted["models"] for s in model["slices"]]
    assert any("intervention" in s for s in slices) and any("rule" in s for s in slices) and any(s["kind"] == "embedding" for s in slices)
    assert all(len(s["transfer"]) == 2 for s in slices), "each slice lists both models' errors"
    assert len(planted["records"]) == planted["images"] == 300 and all(len(m["map"]) == 300 for m in planted["models"])
    # The schema is strict: an undocumented field is refused.
    extra = copy.deepcopy(planted)
    extra["models"][0]["slices"][0]["undocumented"] = 1
    assert not validator.is_valid(extra)
