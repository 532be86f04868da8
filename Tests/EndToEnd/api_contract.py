"""The running server against its own OpenAPI description: the document is valid OpenAPI 3.1, and what each
endpoint answers (successes and documented errors) validates against the schema the document gives for it.
Used by demo_e2e.py on the server it started; needs the pip packages jsonschema and openapi-spec-validator."""
import json
import urllib.error
import urllib.request
import uuid


def request(base_url, path, body=None, content_type=None, method=None, accept=None):
    """(status, headers, decoded JSON body) of one request; error statuses are answers too."""
    headers = {"Content-Type": content_type} if content_type else {}
    if accept:
        headers["Accept"] = accept
    outgoing = urllib.request.Request(f"{base_url}{path}", data=body, headers=headers, method=method)
    try:
        with urllib.request.urlopen(outgoing, timeout=60) as response:
            return response.status, response.headers, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, error.headers, json.loads(error.read() or b"null")


def multipart(fields):
    """A multipart/form-data body from (name, filename or None, bytes) triples."""
    boundary = f"contract-{uuid.uuid4().hex}"
    body = b""
    for name, filename, data in fields:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        body += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + data + b"\r\n"
    return body + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def check_contract(base_url, photo, check):
    from jsonschema import Draft202012Validator
    from openapi_spec_validator import validate

    with urllib.request.urlopen(f"{base_url}/openapi.json", timeout=10) as response:
        spec = json.load(response)
    validate(spec)
    check(True, "/openapi.json is a valid OpenAPI document")

    def conforms(answer, path, method, what):
        status, _, body = answer
        operation = spec["paths"][path][method]
        described = operation["responses"].get(str(status))
        check(described is not None, f"{what}: status {status} is documented for {method.upper()} {path}")
        if "$ref" in described:
            described = spec["components"]["responses"][described["$ref"].rsplit("/", 1)[1]]
        schema = dict(described["content"]["application/json"]["schema"], components=spec["components"])
        problems = [error.message for error in Draft202012Validator(schema).iter_errors(body)]
        check(not problems, f"{what}: the answer matches its schema" + (f" ({problems[:3]})" if problems else ""))
        return body

    image = photo.read_bytes()
    conforms(request(base_url, "/api/v1/models"), "/api/v1/models", "get", "models")
    conforms(request(base_url, "/api/v1/examples"), "/api/v1/examples", "get", "examples")
    conforms(request(base_url, "/readyz"), "/readyz", "get", "readiness")
    conforms(request(base_url, "/healthz"), "/healthz", "get", "health")
    answer = conforms(request(base_url, "/api/v1/classify?top=5&expected=0", image, "image/jpeg", "POST"),
                      "/api/v1/classify", "post", "classify")
    check(len(answer["predictions"]) == 5 and "expected" in answer, "classify gives five predictions and the expected rank")
    body, content_type = multipart([("image", photo.name, image)])
    conforms(request(base_url, "/api/v1/classify", body, content_type, "POST"), "/api/v1/classify", "post", "classify (multipart)")
    for path, payload, kind, what in [
        ("/api/v1/classify", b"not an image", "text/plain", "a text body (415)"),
        ("/api/v1/classify", b"GIF89a\x01\x00\x01\x00\x80\x00\x00" + b"\xa5" * 64, "image/gif", "a corrupt GIF (400)"),
        ("/api/v1/classify?model=resnet50", image, "image/jpeg", "an unknown model (404)"),
        ("/api/v1/classify?model=efficientnet_lite4", image, "image/jpeg", "a model without weights (409)"),
        ("/api/v1/classify?expected=flying%20car", image, "image/jpeg", "an unknown class (422)"),
    ]:
        conforms(request(base_url, path, payload, kind, "POST"), "/api/v1/classify", "post", what)
    body, content_type = multipart([("image", photo.name, image), ("expected", None, b"0"), ("note", None, "contract test".encode()),
                                    ("category", None, b"Contract tests")])
    report = conforms(request(base_url, "/api/v1/blindspots", body, content_type, "POST"), "/api/v1/blindspots", "post", "a new report")
    conforms(request(base_url, "/api/v1/blindspots", body, content_type, "POST"), "/api/v1/blindspots", "post", "the same report again")
    conforms(request(base_url, f"/api/v1/blindspots/{report['id']}"), "/api/v1/blindspots/{id}", "get", "one report")
    conforms(request(base_url, "/api/v1/blindspots?q=contract"), "/api/v1/blindspots", "get", "the public list")
    conforms(request(base_url, "/api/v1/blindspots?status=pending"), "/api/v1/blindspots", "get", "a status only admins list (403)")
    conforms(request(base_url, "/api/v1/blindspots/999999"), "/api/v1/blindspots/{id}", "get", "a missing report (404)")
    conforms(request(base_url, f"/api/v1/blindspots/{report['id']}", b'{"status": "approved"}', "application/json", "PATCH"),
             "/api/v1/blindspots/{id}", "patch", "moderation without the token (401, or 403 when moderation is off)")
    conforms(request(base_url, "/api/v1/categories"), "/api/v1/categories", "get", "categories")
    probe = conforms(request(base_url, "/api/v1/probe?families=flip,rotate-crop,background&expected=0&seed=1", image, "image/jpeg", "POST"),
                     "/api/v1/probe", "post", "a probe")
    check(len(probe["models"][0]["outcomes"]) == len(probe["variants"]), "a probe answers every variant")
    conforms(request(base_url, "/api/v1/probe?families=sideways", image, "image/jpeg", "POST"), "/api/v1/probe", "post", "an unknown family (400)")
    for method in ("patches", "superpixels"):
        explanation = conforms(request(base_url, f"/api/v1/explain?method={method}", image, "image/jpeg", "POST", accept="application/json"),
                               "/api/v1/explain", "post", f"an explanation by {method}")
        check(explanation[0]["method"] == method, f"the explanation used {method}")
    conforms(request(base_url, "/api/v1/explain?class=flying%20car", image, "image/jpeg", "POST", accept="application/json"),
             "/api/v1/explain", "post", "an explanation of an unknown class (422)")
    status, _, _ = request(base_url, f"/api/v1/blindspots/{report['id']}", method="DELETE")
    check(status in (401, 403), f"deleting without the token is refused ({status})")
