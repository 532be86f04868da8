"""Overload against a real `blindspot serve`: `blindspot load` posts a 500×375 JPEG from 64 clients for --seconds, far
beyond what two cores classify, against a small queue and a rate limit, while /healthz is probed; then a lone request
must be back to normal latency within 10 s. The numbers go to OUT/overload.json."""
import json
import statistics
import subprocess
import time

import pytest

from blindspot_harness.api import HealthProber, percentile, post
from blindspot_harness.paths import first_photo
from blindspot_harness.results import write_summary

CLIENTS = 64
QUEUE = 16
# All clients share 127.0.0.1, so one bucket: a rate well above what the queue lets through, so both refusals happen.
RATE_LIMIT = "150"
RATE_BURST = "300"
HEALTH_BOUND_MS = 500
RECOVERY_S = 10


@pytest.fixture(scope="module")
def server(serve):
    with serve("overload", ["--queue", str(QUEUE), "--rate-limit", RATE_LIMIT, "--rate-burst", RATE_BURST]) as server:
        yield server


@pytest.fixture(scope="module")
def photo(shared):
    return first_photo(shared)


def lone_latency(server, photo):
    """Milliseconds of one classification with nothing else going on; it must be answered 200."""
    answer = post(server.base_url, "/api/v1/classify?top=1", photo.read_bytes(), "image/jpeg")
    assert answer.status == 200, f"a lone request is answered 200 ({answer.status} {answer.code})"
    return answer.seconds * 1000


@pytest.fixture(scope="module")
def overload(server, photo, blindspot, option, out):
    """Runs `blindspot load --json` while a prober GETs /healthz, then lone requests until three in a row are within
    twice the lone median from before (plus 50 ms of slack): (the load's JSON or None, its run, the probes, seconds
    until recovered or None)."""
    baseline = statistics.median(lone_latency(server, photo) for _ in range(10))
    prober = HealthProber(server.port)
    prober.start()
    try:
        command = [str(blindspot), "load", f"{server.base_url}/api/v1/classify?top=1", "--image", str(photo),
                   "--clients", str(CLIENTS), "--seconds", str(option.seconds), "--json"]
        completed = subprocess.run(command, capture_output=True, text=True, timeout=option.seconds + 120)
    finally:
        health = prober.stop()
    try:
        load = json.loads(completed.stdout)
    except ValueError:
        load = None
    started, streak, recovered_after = time.monotonic(), 0, None
    while time.monotonic() - started < RECOVERY_S * 3:
        streak = streak + 1 if lone_latency(server, photo) <= 2 * baseline + 50 else 0
        if streak == 3:
            recovered_after = time.monotonic() - started
            break
    latencies = [milliseconds for milliseconds, _ in health]
    write_summary(out / "overload.json", {
        "load": load, "queue": QUEUE, "rate_limit": {"per_second": float(RATE_LIMIT), "burst": float(RATE_BURST)},
        "healthz": {"probes": len(health), "p50_ms": round(percentile(latencies, 0.5) or 0, 1), "max_ms": round(max(latencies, default=0), 1),
                    "statuses": sorted({str(status) for _, status in health})},
        "baseline_ms": round(baseline, 1), "recovered_after_s": None if recovered_after is None else round(recovered_after, 2),
    }, "overload")
    return load, completed, health, recovered_after


@pytest.fixture(scope="module")
def load(overload):
    load, completed, _, _ = overload
    assert completed.returncode == 0 and load is not None, \
        f"blindspot load ran and printed its JSON (exit status {completed.returncode}):\n{completed.stdout[-2000:]}\n{completed.stderr[-2000:]}"
    return load


def test_every_answer_is_200_429_or_503(load):
    assert set(load["byStatus"]) <= {"200", "429", "503"}, f"every answer is 200, 429 or 503 ({sorted(load['byStatus'])})"


def test_load_produced_classifications_429s_and_503s(load):
    assert all(load["byStatus"].get(status, {}).get("count") for status in ("200", "429", "503")), \
        f"the load produced classifications, 429s and 503s ({ {status: answers['count'] for status, answers in load['byStatus'].items()} })"


def test_no_connection_failed(load):
    assert load["transportErrors"] == 0, f"no connection failed ({load['transportErrors']} did: {load['transportErrorSamples'][:3]})"


def test_every_refusal_carries_retry_after(load):
    assert load["missingRetryAfter"] == 0, f"every 429 and 503 carries Retry-After ({load['missingRetryAfter']} did not)"


def test_healthz_answered_200_throughout(overload):
    health = overload[2]
    failed = [status for _, status in health if status != 200]
    assert health and not failed, f"/healthz answered 200 throughout ({len(health)} probes; {failed[:3]})"


def test_healthz_stayed_fast(overload):
    slowest = max((milliseconds for milliseconds, _ in overload[2]), default=None)
    assert slowest is not None and slowest < HEALTH_BOUND_MS, f"/healthz stayed under {HEALTH_BOUND_MS} ms (max {slowest} ms)"


def test_lone_request_recovers_quickly(overload):
    recovered_after = overload[3]
    assert recovered_after is not None and recovered_after <= RECOVERY_S, \
        f"a lone request is back to normal latency {recovered_after} s after the load (≤ {RECOVERY_S} s)"
