"""HTTP against a server under test: one request with its answer and time, multipart bodies, and a /healthz prober."""
import http.client
import json
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass

REQUEST_TIMEOUT_S = 60


@dataclass
class Answer:
    status: int
    headers: dict
    data: bytes
    seconds: float

    @property
    def json(self):
        """The decoded JSON body, or None when there is none or it is no JSON."""
        try:
            return json.loads(self.data) if self.data else None
        except ValueError:
            return None

    @property
    def code(self):
        """The code of an {"error": {"code", "message"}} answer, or "?"."""
        try:
            return str(self.json["error"]["code"])
        except (KeyError, TypeError):
            return "?"


def call(base_url, path, method="GET", body=None, headers=None, timeout=REQUEST_TIMEOUT_S):
    """One request on a new connection; error statuses are answers too (a lost connection raises)."""
    request = urllib.request.Request(f"{base_url}{path}", data=body, headers=headers or {}, method=method)
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, answer_headers, data = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, answer_headers, data = error.code, error.headers, error.read()
    return Answer(status, {name.lower(): value for name, value in answer_headers.items()}, data, time.monotonic() - started)


def post(base_url, path, body, content_type, **options):
    return call(base_url, path, "POST", body, {"Content-Type": content_type, **options.pop("headers", {})}, **options)


def multipart(fields):
    """A multipart/form-data body and its Content-Type from (name, filename or None, bytes) triples."""
    boundary = f"blindspot-test-{uuid.uuid4().hex}"
    body = b""
    for name, filename, data in fields:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        body += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + data + b"\r\n"
    return body + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def percentile(values, fraction):
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


class HealthProber(threading.Thread):
    """GETs /healthz every 100 ms over one keep-alive connection until stopped, keeping (milliseconds, status) of each
    probe; a failed probe is kept as (milliseconds, "ExceptionName: message")."""

    def __init__(self, port):
        super().__init__(name="healthz-prober", daemon=True)
        self.port = port
        self.samples = []
        self.stopping = threading.Event()

    def run(self):
        connection = None
        while not self.stopping.is_set():
            started = time.monotonic()
            try:
                connection = connection or http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                connection.request("GET", "/healthz")
                response = connection.getresponse()
                response.read()
                outcome = response.status
            except (OSError, http.client.HTTPException) as error:
                connection.close()
                connection, outcome = None, f"{type(error).__name__}: {error}"
            self.samples.append(((time.monotonic() - started) * 1000, outcome))
            self.stopping.wait(0.1)
        if connection:
            connection.close()

    def stop(self):
        self.stopping.set()
        self.join(timeout=15)
        return self.samples
