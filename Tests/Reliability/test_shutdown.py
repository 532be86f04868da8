"""Stopping a server with SIGTERM, a rolling restart's first step: /readyz turns 503 at once, new requests get 503
shutting_down with Retry-After while /healthz still answers, every request admitted before the signal is answered 200,
and the process exits 0; with a --shutdown-grace shorter than the work in flight it still exits 0, in time."""
import re
import signal
import threading
import time

import pytest

from blindspot_harness import server as servers
from blindspot_harness.api import call, multipart, post

PROBES = 3


def in_flight(server):
    """The server's blindspot_requests_in_flight gauge (the /metrics request itself is not counted)."""
    text = call(server.base_url, "/metrics").data.decode()
    match = re.search(r'^blindspot_requests_in_flight\{replica="[^"]*"\} (\S+)$', text, re.MULTILINE)
    assert match, "/metrics has blindspot_requests_in_flight with a replica label"
    return float(match.group(1))


def start_probes(server, image, count):
    """`count` probes of `image` posted at once on threads; (threads, answers list filled as they end)."""
    body, content_type = multipart([("image", "car.png", image)])
    answers = []

    def probe():
        try:
            answers.append(post(server.base_url, "/api/v1/probe", body, content_type, timeout=120))
        except OSError as error:
            answers.append(error)

    threads = [threading.Thread(target=probe) for _ in range(count)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while in_flight(server) < count:
        assert time.monotonic() < deadline, f"{count} probes were admitted within 30 s"
        time.sleep(0.02)
    return threads, answers


@pytest.fixture()
def server_with(blindspot, shared, out, option):
    started = []

    def make(name, grace):
        server = servers.Server(blindspot, out / f"server-{name}.log", option.model, arguments=["--shutdown-grace", str(grace), "--replica", name])
        started.append(server)
        server.start()
        server.wait_until_ready()
        return server

    yield make
    for server in started:
        server.close()


def test_sigterm_answers_what_was_admitted_and_refuses_the_rest(server_with, shared):
    server = server_with("drain", 120)
    image = (shared / "seed-examples" / "car1.png").read_bytes()
    threads, answers = start_probes(server, image, PROBES)
    server.stopped_on_purpose = True
    signalled = time.monotonic()
    server.process.send_signal(signal.SIGTERM)

    # The signal is handled on the server's own task: /readyz turns 503 within moments, long before the probes end.
    deadline = time.monotonic() + 5
    readiness = call(server.base_url, "/readyz")
    while readiness.status != 503 and time.monotonic() < deadline:
        time.sleep(0.01)
        readiness = call(server.base_url, "/readyz")
    assert readiness.status == 503 and readiness.json["status"] == "shutting down", f"/readyz within 5 s: {readiness.status} {readiness.json}"
    assert all(thread.is_alive() for thread in threads), "the probes were still running when /readyz turned 503"
    assert call(server.base_url, "/healthz").status == 200, "/healthz still answers while draining"
    body, content_type = multipart([("image", "car.png", image)])
    refused = post(server.base_url, "/api/v1/classify", body, content_type)
    assert refused.status == 503 and refused.code == "shutting_down", f"a new request: {refused.status} {refused.code}"
    assert refused.headers.get("retry-after", "").isdigit(), "503 shutting_down says when to retry"

    for thread in threads:
        thread.join(timeout=150)
    statuses = [getattr(answer, "status", repr(answer)) for answer in answers]
    assert statuses == [200] * PROBES, f"every admitted probe is answered 200: {statuses}"
    status = server.process.wait(timeout=30)
    print(f"exit {status} {time.monotonic() - signalled:.1f} s after SIGTERM, {PROBES} probes answered")
    assert status == 0, f"exit status after draining: {status}"
    assert "SIGTERM: /readyz now answers 503" in server.current_output()
    server.check_survived()


def test_a_short_grace_still_exits_in_time(server_with, shared):
    grace = 0.5
    server = server_with("short-grace", grace)
    threads, _ = start_probes(server, (shared / "seed-examples" / "car1.png").read_bytes(), 1)
    server.stopped_on_purpose = True
    signalled = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    status = server.process.wait(timeout=30)
    took = time.monotonic() - signalled
    for thread in threads:
        thread.join(timeout=150)
    assert status == 0 and took < grace + 10, f"exit {status} after {took:.1f} s with --shutdown-grace {grace}"
    assert "still in flight after" in server.current_output(), "the server says what it gave up on"
    server.check_survived()
