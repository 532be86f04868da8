#!/usr/bin/env python3
"""Overload against a real `blindspot serve`: 64 clients post a 500×375 JPEG as fast as they can for 60 s, far
beyond what two cores classify, with a small queue and a per-client rate limit so that every kind of refusal
happens. Every answer must be 200, 429 or 503 (the refusals with Retry-After), /healthz must stay fast
throughout, and after the load stops a lone request must be back to its normal latency within 10 s.

    python3 Tests/Reliability/overload.py --blindspot .build/release/blindspot --shared ../shared --out .build/test-output/reliability [--seconds 60]

Prints counts by status, latency percentiles per status, /healthz latency, the recovery time; writes OUT/overload.json.
"""
import collections
import http.client
import json
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "EndToEnd"))
from demo_e2e import Server, check, first_photo, passed, run_checks, script_arguments, shared_folder_or_skip  # noqa: E402

CLIENTS = 64
QUEUE = 16
# All clients share 127.0.0.1, so one bucket: a rate well above what the queue lets through, so both refusals happen.
RATE_LIMIT = "150"
RATE_BURST = "300"
HEALTH_BOUND_MS = 500
RECOVERY_S = 10


def parse_arguments():
    parser = script_arguments(__doc__, ".build/test-output/reliability", "where the results and the server log go")
    parser.add_argument("--seconds", type=float, default=60)
    return parser.parse_args()


class Connection:
    """One keep-alive HTTP connection, reopened when the server closes it."""

    def __init__(self, port):
        self.port = port
        self.connection = None

    def post(self, path, body, content_type):
        for attempt in range(2):
            try:
                if self.connection is None:
                    self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                self.connection.request("POST", path, body=body, headers={"Content-Type": content_type})
                response = self.connection.getresponse()
                data = response.read()
                if response.getheader("Connection", "").lower() == "close":
                    self.close()
                return response.status, response.getheader("Retry-After"), data
            except (ConnectionError, http.client.HTTPException, OSError):
                self.close()
                if attempt == 1:
                    raise
        raise AssertionError("unreachable")

    def close(self):
        if self.connection is not None:
            self.connection.close()
        self.connection = None


# GET /healthz every 100 ms for the given seconds; prints [[milliseconds, status], …].
PROBER = """
import http.client, json, sys, time
port, seconds = int(sys.argv[1]), float(sys.argv[2])
samples, end = [], time.monotonic() + seconds
connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
while time.monotonic() < end:
    start = time.monotonic()
    connection.request("GET", "/healthz")
    response = connection.getresponse()
    response.read()
    samples.append([(time.monotonic() - start) * 1000, response.status])
    time.sleep(0.1)
print(json.dumps(samples))
"""


def percentile(values, fraction):
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def lone_latency(port, photo, count):
    connection = Connection(port)
    latencies = []
    for _ in range(count):
        start = time.monotonic()
        status, _, _ = connection.post("/api/v1/classify?top=1", photo, "image/jpeg")
        latencies.append((time.monotonic() - start) * 1000)
        check(status == 200, f"a lone request is answered 200 (got {status})")
    connection.close()
    return latencies


def run(server, photo_path, seconds, out):
    port = server.port
    photo = photo_path.read_bytes()
    baseline = statistics.median(lone_latency(port, photo, 10))
    print(f"lone request before the load: median {baseline:.1f} ms", flush=True)

    stop = threading.Event()
    lock = threading.Lock()
    answers = collections.defaultdict(list)
    missing_retry_after = []
    errors = []

    def client():
        connection = Connection(port)
        while not stop.is_set():
            start = time.monotonic()
            try:
                status, retry_after, _ = connection.post("/api/v1/classify?top=1", photo, "image/jpeg")
            except Exception as error:  # noqa: BLE001 - every failure is counted and reported
                with lock:
                    errors.append(f"{type(error).__name__}: {error}")
                continue
            milliseconds = (time.monotonic() - start) * 1000
            with lock:
                answers[status].append(milliseconds)
                if status in (429, 503) and not retry_after:
                    missing_retry_after.append(status)
        connection.close()

    # /healthz is probed from a process of its own, so that the 64 client threads do not delay its measurements.
    prober = subprocess.Popen([sys.executable, "-c", PROBER, str(port), str(seconds)], stdout=subprocess.PIPE, text=True)
    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    health = [tuple(sample) for sample in json.loads(prober.communicate(timeout=30)[0])]

    # Recovery: lone requests until three in a row are within twice the baseline (plus 50 ms of slack).
    recovery_start = time.monotonic()
    streak, recovered_after = 0, None
    while time.monotonic() - recovery_start < RECOVERY_S * 3:
        latency = lone_latency(port, photo, 1)[0]
        streak = streak + 1 if latency <= 2 * baseline + 50 else 0
        if streak == 3:
            recovered_after = time.monotonic() - recovery_start
            break

    total = sum(len(values) for values in answers.values())
    summary = {
        "clients": CLIENTS, "seconds": round(elapsed, 1), "requests": total, "queue": QUEUE,
        "rate_limit": {"per_second": float(RATE_LIMIT), "burst": float(RATE_BURST)},
        "by_status": {str(status): {"count": len(values), "p50_ms": round(percentile(values, 0.5), 1),
                                    "p99_ms": round(percentile(values, 0.99), 1)} for status, values in sorted(answers.items())},
        "classified_per_second": round(len(answers.get(200, [])) / elapsed, 1),
        "healthz": {"probes": len(health), "p50_ms": round(percentile([h[0] for h in health], 0.5), 1),
                    "max_ms": round(max(h[0] for h in health), 1)},
        "baseline_ms": round(baseline, 1),
        "recovered_after_s": None if recovered_after is None else round(recovered_after, 2),
        "client_errors": errors[:10], "client_error_count": len(errors),
    }
    print(json.dumps(summary, indent=1), flush=True)
    (Path(out) / "overload.json").write_text(json.dumps(summary, indent=1))
    check(set(answers) <= {200, 429, 503}, f"every answer is 200, 429 or 503: {sorted(answers)}")
    check(all(status in answers for status in (200, 429, 503)), "the load produced classifications, 429s and 503s")
    check(not errors, f"no connection failed ({len(errors)} did: {errors[:3]})")
    check(not missing_retry_after, f"every 429 and 503 carries Retry-After ({len(missing_retry_after)} did not)")
    check(all(status == 200 for _, status in health), "/healthz answered 200 throughout")
    check(summary["healthz"]["max_ms"] < HEALTH_BOUND_MS, f"/healthz stayed under {HEALTH_BOUND_MS} ms (max {summary['healthz']['max_ms']} ms)")
    check(recovered_after is not None and recovered_after <= RECOVERY_S,
          f"a lone request is back to normal latency {recovered_after} s after the load (≤ {RECOVERY_S} s)")
    server.check_survived()
    passed(f"{total} requests from {CLIENTS} clients in {elapsed:.0f} s answered 200, 429 or 503")


def main():
    arguments = parse_arguments()
    shared = shared_folder_or_skip(arguments)
    if shared is None:
        return 0
    out = Path(arguments.out)
    server = Server(arguments.blindspot, shared, arguments.model, out,
                    arguments=("--queue", str(QUEUE), "--rate-limit", RATE_LIMIT, "--rate-burst", RATE_BURST))
    return run_checks(lambda: run(server, first_photo(shared), arguments.seconds, out), server)


if __name__ == "__main__":
    sys.exit(main())
