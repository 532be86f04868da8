"""The demo's server against its own OpenAPI description: the document is valid OpenAPI 3.1, and what each endpoint
answers (successes and documented errors) validates against the schema the document gives for it."""
import pytest

from blindspot_harness.api import call, multipart, post
from blindspot_harness.paths import first_photo

CORRUPT_GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00" + b"\xa5" * 64


@pytest.fixture(scope="module")
def spec(demo_server):
    return call(demo_server.base_url, "/openapi.json").json


@pytest.fixture(scope="module")
def image(shared):
    photo = first_photo(shared)
    return photo.name, photo.read_bytes()


def conforms(spec, answer, path, method):
    """The body of `answer`, after checking that its status is documented for the operation and that it matches the
    schema given for that status."""
    from jsonschema import Draft202012Validator

    responses = spec["paths"][path][method]["responses"]
    assert str(answer.status) in responses, f"status {answer.status} is documented for {method.upper()} {path} ({answer.data[:200]!r})"
    described = responses[str(answer.status)]
    if "$ref" in described:
        described = spec["components"]["responses"][described["$ref"].rsplit("/", 1)[1]]
    schema = dict(described["content"]["application/json"]["schema"], components=spec["components"])
    problems = [error.message for error in Draft202012Validator(schema).iter_errors(answer.json)]
    assert not problems, f"the answer of {method.upper()} {path} ({answer.status}) matches its schema ({problems[:3]})"
    return answer.json


def test_openapi_document_is_valid(spec):
    from openapi_spec_validator import validate

    validate(spec)  # raises, naming the problem, unless /openapi.json is a valid OpenAPI document


@pytest.mark.parametrize("path", ["/api/v1/models", "/api/v1/examples", "/readyz", "/healthz", "/api/v1/categories"])
def test_reads_conform(demo_server, spec, path):
    conforms(spec, call(demo_server.base_url, path), path, "get")


def test_classify_conforms(demo_server, spec, image):
    answer = conforms(spec, post(demo_server.base_url, "/api/v1/classify?top=5&expected=0", image[1], "image/jpeg"), "/api/v1/classify", "post")
    assert len(answer["predictions"]) == 5 and "expected" in answer, "classify gives five predictions and the expected rank"
    body, content_type = multipart([("image", image[0], image[1])])
    conforms(spec, post(demo_server.base_url, "/api/v1/classify", body, content_type), "/api/v1/classify", "post")


@pytest.mark.parametrize("query, payload, content_type, status", [
    ("", b"not an image", "text/plain", 415),
    ("", CORRUPT_GIF, "image/gif", 400),
    ("?model=alexnet", None, "image/jpeg", 404),  # an unknown model
    ("?model=efficientnet_lite4", None, "image/jpeg", 409),  # a model without weights
    ("?expected=flying%20car", None, "image/jpeg", 422),  # an unknown class
], ids=["text-415", "corrupt-gif-400", "unknown-model-404", "no-weights-409", "unknown-class-422"])
def test_classify_errors_conform(demo_server, spec, image, query, payload, content_type, status):
    answer = post(demo_server.base_url, f"/api/v1/classify{query}", payload or image[1], content_type)
    assert answer.status == status, f"the request is refused with {status} ({answer.status} {answer.code})"
    conforms(spec, answer, "/api/v1/classify", "post")


@pytest.fixture(scope="module")
def report_form(image):
    return multipart([("image", image[0], image[1]), ("expected", None, b"0"), ("note", None, b"contract test"),
                      ("category", None, b"Contract tests")])


@pytest.fixture(scope="module")
def report(demo_server, spec, report_form):
    """A report filed (or confirmed, on a server already running) by this module."""
    return conforms(spec, post(demo_server.base_url, "/api/v1/blindspots", *report_form), "/api/v1/blindspots", "post")


def test_same_report_again_conforms(demo_server, spec, report, report_form):
    again = conforms(spec, post(demo_server.base_url, "/api/v1/blindspots", *report_form), "/api/v1/blindspots", "post")
    assert again["id"] == report["id"], f"the same report again is report {report['id']} ({again['id']})"


@pytest.mark.parametrize("path, operation", [
    ("/api/v1/blindspots/{id}", "/api/v1/blindspots/{id}"),  # one report
    ("/api/v1/blindspots?q=contract", "/api/v1/blindspots"),  # the public list
    ("/api/v1/blindspots?status=pending", "/api/v1/blindspots"),  # a status only admins list: 403
    ("/api/v1/blindspots/999999", "/api/v1/blindspots/{id}"),  # a missing report: 404
], ids=["one-report", "public-list", "pending-403", "missing-404"])
def test_report_reads_conform(demo_server, spec, report, path, operation):
    conforms(spec, call(demo_server.base_url, path.replace("{id}", str(report["id"]))), operation, "get")


def test_moderation_without_token_conforms(demo_server, spec, report):
    """401, or 403 when moderation is off."""
    answer = call(demo_server.base_url, f"/api/v1/blindspots/{report['id']}", "PATCH", b'{"status": "approved"}',
                  {"Content-Type": "application/json"})
    assert answer.status in (401, 403), f"moderation without the token is refused ({answer.status})"
    conforms(spec, answer, "/api/v1/blindspots/{id}", "patch")


def test_delete_without_token_is_refused(demo_server, report):
    status = call(demo_server.base_url, f"/api/v1/blindspots/{report['id']}", "DELETE").status
    assert status in (401, 403), f"deleting without the token is refused ({status})"


def test_probe_conforms(demo_server, spec, image):
    probe = conforms(spec, post(demo_server.base_url, "/api/v1/probe?families=flip,rotate-crop,background&expected=0&seed=1",
                                image[1], "image/jpeg"), "/api/v1/probe", "post")
    assert len(probe["models"][0]["outcomes"]) == len(probe["variants"]), "a probe answers every variant"
    unknown = post(demo_server.base_url, "/api/v1/probe?families=sideways", image[1], "image/jpeg")
    assert unknown.status == 400, f"an unknown family answers 400 ({unknown.status})"
    conforms(spec, unknown, "/api/v1/probe", "post")


def test_probe_with_imagenet_c_conforms(demo_server, spec, image):
    """ImageNet-C's corruptions by name and by group: the clean crop is its own variant and each corruption has 5 severities."""
    probe = conforms(spec, post(demo_server.base_url, "/api/v1/probe?families=flip,imagenet-c:fog,imagenet-c:held-out&thumbnails=false",
                                image[1], "image/jpeg"), "/api/v1/probe", "post")
    families = [family["family"] for family in probe["families"]]
    assert families == ["flip", "imagenet-c:fog", "imagenet-c:speckle_noise", "imagenet-c:gaussian_blur", "imagenet-c:spatter",
                        "imagenet-c:saturate"], f"the families in the order asked ({families})"
    crop = probe["cropVariant"]
    assert crop == 3 and "family" not in probe["variants"][crop], f"the clean crop follows flip's two levels ({crop})"
    assert len(probe["variants"]) == 1 + 2 + 1 + 5 * 5 == len(probe["models"][0]["outcomes"]), "every variant is answered"
    fog = [variant["level"]["label"] for variant in probe["variants"] if variant.get("family") == "imagenet-c:fog"]
    assert fog == [f"severity {n}" for n in range(1, 6)], f"fog's severities ({fog})"
    plain = conforms(spec, post(demo_server.base_url, "/api/v1/probe?families=flip&thumbnails=false", image[1], "image/jpeg"),
                     "/api/v1/probe", "post")
    assert "cropVariant" not in plain, "no corruption, no crop"


@pytest.mark.parametrize("method", ["patches", "superpixels"])
def test_explanation_conforms(demo_server, spec, image, method):
    explanation = conforms(spec, post(demo_server.base_url, f"/api/v1/explain?method={method}", image[1], "image/jpeg",
                                      headers={"Accept": "application/json"}), "/api/v1/explain", "post")
    assert explanation[0]["method"] == method, f"the explanation used {method} ({explanation[0]['method']})"


def test_explanation_of_unknown_class_conforms(demo_server, spec, image):
    answer = post(demo_server.base_url, "/api/v1/explain?class=flying%20car", image[1], "image/jpeg", headers={"Accept": "application/json"})
    assert answer.status == 422, f"an unknown class answers 422 ({answer.status})"
    conforms(spec, answer, "/api/v1/explain", "post")
