#!/usr/bin/env python3
"""Storage faults of the catalog against a real `blindspot serve`, on small tmpfs mounts (root only: a full or read-only
disk cannot be faked with chmod for root, and mounting needs root).

Disk full: the server keeps its catalog (--data) on an 8 MB tmpfs while 4 client threads file reports (each a new
160x120 noise PNG) until the disk is full and past it. Every answer must be 201 or 507 `insufficient_storage` (never a
500, never a path in the message), within REQUEST_TIMEOUT_S; while full, /healthz, /readyz (catalog "full"), reading a
report and classifying still answer. Then the tmpfs grows to 32 MB: the next report is stored without a restart. The
server is stopped and started again on the same data, and every acknowledged (201) report is served whole; stopped
again, `PRAGMA integrity_check` is ok and every row has its images (durability_test.py's checks).

Read-only at start: the server starts with --data on a tmpfs mounted read-only, so the catalog cannot be opened, and
with a second model whose weights file is broken. It must still serve: /readyz 200 once the good model is ready,
saying the catalog is unavailable and why (no path) and that the broken model failed and why, the demo page and
classification work, and the catalog's routes answer 503 `catalog_unavailable`; the log keeps the detail.

    sudo python3 Tests/EndToEnd/storage_faults_test.py --blindspot .build/release/blindspot --out .build/test-output/storage-faults

Every mount is unmounted whatever happens. Prints PASS/FAIL lines and a summary (also OUT/storage_faults.json); exits 0
only if every check passed, and prints SKIP and exits 0 when not run as root.
"""
import http.client
import json
import os
import random
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

from api_contract import multipart
from demo_e2e import CheckFailed, passed, script_arguments
from durability_test import (HOST, REQUEST_TIMEOUT_S, Results, RestartableServer, error_code, noise_png, sha256, sqlite_rows,
                             verify_files, verify_through_api)
import durability_test

FULL_MOUNT_MB = 8
# Noise does not compress: about 58 KB a PNG, kept twice (original and display copy), so about 65 reports fill the disk.
IMAGE_SIZE = (160, 120)
GROWN_MOUNT_MB = 32
CLIENTS = 4
# Reports each client files after its first 507, to show the server keeps answering a full disk.
AFTER_FULL = 10
# A model given a file that is not a checkpoint (it has no published weights, so nothing else could load it).
BROKEN_MODEL = "efficientnet_lite3"
FILL_TIME_LIMIT_S = 90


def parse_arguments():
    parser = script_arguments(__doc__, ".build/test-output/storage-faults", "where the summary, server logs and mounts go", shared=False)
    parser.add_argument("--seed", type=int, default=20240602, help="seed of the images and classes")
    return parser.parse_args()


class Tmpfs:
    """A tmpfs mounted at `directory` for the life of a `with` block, unmounted (lazily if busy) however it ends."""

    def __init__(self, directory, megabytes, read_only=False):
        self.directory, self.megabytes, self.read_only = Path(directory).resolve(), megabytes, read_only

    def __enter__(self):
        if os.path.ismount(self.directory):
            subprocess.run(["umount", "-l", str(self.directory)], check=False)
        self.directory.mkdir(parents=True, exist_ok=True)
        options = f"size={self.megabytes}m,mode=0755" + (",ro" if self.read_only else "")
        subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(self.directory)], check=True)
        return self

    def resize(self, megabytes):
        subprocess.run(["mount", "-o", f"remount,size={megabytes}m", str(self.directory)], check=True)
        self.megabytes = megabytes

    def __exit__(self, *_):
        if subprocess.run(["umount", str(self.directory)], check=False).returncode != 0:
            subprocess.run(["umount", "-l", str(self.directory)], check=False)


def get(port, path, timeout=REQUEST_TIMEOUT_S):
    """(status, body) of a GET."""
    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}{path}", timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def post(port, path, body, content_type):
    """(status, headers, body, seconds) of a POST on a new connection."""
    started = time.monotonic()
    connection = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT_S)
    try:
        connection.request("POST", path, body=body, headers={"Content-Type": content_type})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read(), time.monotonic() - started
    finally:
        connection.close()


def report_form(rng, label):
    image = noise_png(rng, *IMAGE_SIZE)
    expected = rng.randrange(1000)
    note = f"storage faults: {label}"
    body, content_type = multipart([("image", "noise.png", image), ("expected", None, str(expected).encode()), ("note", None, note.encode())])
    return body, content_type, (sha256(image), note, expected)


class Filer(threading.Thread):
    """Files reports until AFTER_FULL reports after its first 507, or until told to stop."""

    def __init__(self, number, seed, port, stop):
        super().__init__(name=f"filer-{number}", daemon=True)
        self.number, self.port, self.stop = number, port, stop
        self.rng = random.Random(f"{seed}:filer:{number}")
        self.acknowledged = []  # (id, sha256, note, class)
        self.answers = Counter()  # "status code" -> count
        self.slowest = 0.0
        self.leaks = []  # answers whose message names a path
        self.errors = []  # lost connections, timeouts, crashes
        self.after_full = None

    def run(self):
        sequence = 0
        try:
            while not self.stop.is_set() and (self.after_full is None or self.after_full < AFTER_FULL):
                sequence += 1
                body, content_type, sent = report_form(self.rng, f"filer {self.number} report {sequence}")
                try:
                    status, _, data, seconds = post(self.port, "/api/v1/blindspots", body, content_type)
                except (OSError, http.client.HTTPException) as error:
                    self.errors.append(f"report {sequence}: {type(error).__name__}: {error}")
                    continue
                self.slowest = max(self.slowest, seconds)
                code = "" if status == 201 else error_code(data)
                self.answers[f"{status} {code}".strip()] += 1
                if status == 201:
                    self.acknowledged.append((json.loads(data)["id"],) + sent)
                elif status == 507 and self.after_full is None:
                    self.after_full = 0
                if status != 201:
                    if self.after_full is not None:
                        self.after_full += 1
                    if "/" in json.loads(data)["error"]["message"]:
                        self.leaks.append(f"{status}: {data[:300]!r}")
        except Exception as error:  # A bug in the test is a failure too.
            self.errors.append(f"crash: {type(error).__name__}: {error}")


def readiness(port):
    status, data = get(port, "/readyz")
    return status, json.loads(data)


def check_disk_full(arguments, out, results, summary):
    mount_point = out / "full-mount"
    with Tmpfs(mount_point, FULL_MOUNT_MB) as mount:
        data = mount.directory / "data"
        server = RestartableServer(arguments.blindspot, arguments.model, out / "full", data)
        try:
            server.start()
            server.wait_until_ready(time.monotonic() + durability_test.READY_TIMEOUT_S)
            passed(f"the server is ready with its catalog on a {FULL_MOUNT_MB} MB tmpfs ({data})")
            stop = threading.Event()
            filers = [Filer(number, arguments.seed, server.port, stop) for number in range(1, CLIENTS + 1)]
            began = time.monotonic()
            for filer in filers:
                filer.start()
            for filer in filers:
                filer.join(timeout=max(1, FILL_TIME_LIMIT_S - (time.monotonic() - began)))
            stop.set()
            for filer in filers:
                filer.join(timeout=REQUEST_TIMEOUT_S + 5)
            answers = sum((filer.answers for filer in filers), Counter())
            acknowledged = [entry for filer in filers for entry in filer.acknowledged]
            slowest = max(filer.slowest for filer in filers)
            summary["full_answers"] = dict(answers)
            summary["full_acknowledged_before_full"] = len(acknowledged)
            summary["full_slowest_answer_s"] = round(slowest, 2)
            summary["full_fill_seconds"] = round(time.monotonic() - began, 1)
            results.check(not any(filer.is_alive() for filer in filers), f"the {CLIENTS} clients finished within {FILL_TIME_LIMIT_S} s")
            errors = [line for filer in filers for line in filer.errors]
            results.check(not errors, "every request got an answer (no lost connection, no timeout)", errors)
            results.check(set(answers) <= {"201", "507 insufficient_storage"} and answers["507 insufficient_storage"] > 0,
                          f"every answer was 201 or 507 insufficient_storage, and the disk did fill ({dict(answers)})")
            results.check(all(filer.after_full == AFTER_FULL for filer in filers),
                          f"each client got {AFTER_FULL} answers after its first 507 (the server keeps answering a full disk)")
            results.check(slowest < 10, f"the slowest answer took {slowest:.2f} s (under 10 s: no hang)")
            leaks = [line for filer in filers for line in filer.leaks]
            results.check(not leaks, "no error message names a path (holds a /)", leaks)
            results.check(acknowledged, f"{len(acknowledged)} reports were acknowledged before the disk was full")

            status, _ = get(server.port, "/healthz")
            results.check(status == 200, f"/healthz answers {status} while the disk is full")
            status, ready = readiness(server.port)
            results.check(status == 200 and ready.get("catalog", {}).get("state") == "full" and str(mount.directory) not in json.dumps(ready),
                          f"/readyz answers {status} and says the catalog is full, without a path ({ready.get('catalog')})")
            status, _ = get(server.port, f"/api/v1/blindspots/{acknowledged[0][0]}")
            results.check(status == 200, f"an acknowledged report is still read ({status}) while the disk is full")
            image = noise_png(random.Random(f"{arguments.seed}:classify"))
            status, _, _, _ = post(server.port, "/api/v1/classify", image, "image/png")
            results.check(status == 200, f"classification answers {status} while the disk is full")

            mount.resize(GROWN_MOUNT_MB)
            body, content_type, sent = report_form(random.Random(f"{arguments.seed}:after"), "after space was freed")
            status, _, answer, _ = post(server.port, "/api/v1/blindspots", body, content_type)
            results.check(status == 201, f"with the tmpfs grown to {GROWN_MOUNT_MB} MB the next report is stored ({status}) without a restart")
            if status == 201:
                acknowledged.append((json.loads(answer)["id"],) + sent)
            status, ready = readiness(server.port)
            results.check(ready.get("catalog", {}).get("state") == "ready", f"/readyz says the catalog is ready again ({ready.get('catalog')})")

            stopped, code = server.terminate()
            results.check(stopped, f"the server stopped on SIGTERM (exit status {code})")
            server.start()
            server.wait_until_ready(time.monotonic() + durability_test.READY_TIMEOUT_S)
            summary["full_found_after_restart"] = verify_through_api(server, acknowledged, results)
            stopped, code = server.terminate()
            results.check(stopped, f"the restarted server stopped on SIGTERM (exit status {code})")
            counts = verify_files(data, sqlite_rows(data, results), acknowledged, set(), results)
            summary.update({f"full_{key}": value for key, value in counts.items()})
        finally:
            server.close()


def check_read_only_at_start(arguments, out, results, summary):
    mount_point = out / "read-only-mount"
    with Tmpfs(mount_point, FULL_MOUNT_MB, read_only=True) as mount:
        data = mount.directory / "data"
        broken = out / "read-only" / "broken-weights.pth"
        broken.write_bytes(b"not a checkpoint")
        server = RestartableServer(arguments.blindspot, f"{arguments.model},{BROKEN_MODEL}", out / "read-only", data,
                                   extra_arguments=["--weights", f"{BROKEN_MODEL}={broken}"])
        try:
            server.start()
            server.wait_until_ready(time.monotonic() + durability_test.READY_TIMEOUT_S)
            status, ready = readiness(server.port)
            models = {model["name"]: model for model in ready.get("models", [])}
            deadline = time.monotonic() + durability_test.READY_TIMEOUT_S
            while models.get(BROKEN_MODEL, {}).get("state") == "loading" and time.monotonic() < deadline:
                time.sleep(0.1)
                status, ready = readiness(server.port)
                models = {model["name"]: model for model in ready.get("models", [])}
            summary["broken_model_readiness"] = models.get(BROKEN_MODEL)
            results.check(models.get(arguments.model, {}).get("state") == "ready" and models.get(BROKEN_MODEL, {}).get("state") == "failed"
                          and models[BROKEN_MODEL].get("reason"),
                          f"a model whose weights are broken fails alone, and /readyz says why ({models.get(BROKEN_MODEL)})")
            catalog = ready.get("catalog", {})
            summary["read_only_readiness"] = catalog
            results.check(status == 200 and catalog.get("state") == "unavailable" and "read-only" in (catalog.get("reason") or ""),
                          f"with --data on a read-only file system the server is up, /readyz answers {status} and says why the catalog is "
                          f"unavailable ({catalog})")
            results.check(str(mount.directory) not in json.dumps(ready), "/readyz names no path")
            body, content_type, _ = report_form(random.Random(f"{arguments.seed}:read-only"), "read-only")
            status, headers, answer, _ = post(server.port, "/api/v1/blindspots", body, content_type)
            summary["read_only_report_answer"] = f"{status} {error_code(answer)}"
            results.check(status == 503 and error_code(answer) == "catalog_unavailable" and str(mount.directory).encode() not in answer,
                          f"filing a report answers {status} {error_code(answer)}, without a path")
            status, _ = get(server.port, "/api/v1/blindspots")
            results.check(status == 503, f"listing reports answers {status}")
            status, _ = get(server.port, "/")
            results.check(status == 200, f"the demo page answers {status}")
            image = noise_png(random.Random(f"{arguments.seed}:classify"))
            # Named: the default is the best model offered, here the broken one, which answers 503 model_unavailable.
            status, _, _, _ = post(server.port, f"/api/v1/classify?model={arguments.model}", image, "image/png")
            results.check(status == 200, f"classification with {arguments.model} answers {status}")
            results.check(str(mount.directory) in server.output(), "the server's log names the data directory that failed")
            stopped, code = server.terminate()
            results.check(stopped, f"the server stopped on SIGTERM (exit status {code})")
        finally:
            server.close()


def main():
    arguments = parse_arguments()
    if os.geteuid() != 0:
        print("SKIP: storage_faults_test.py needs root to mount tmpfs file systems (a full or read-only disk cannot be faked otherwise)",
              flush=True)
        return 0
    out = Path(arguments.out).resolve()
    shutil.rmtree(out / "full", ignore_errors=True)
    shutil.rmtree(out / "read-only", ignore_errors=True)
    (out / "full").mkdir(parents=True)
    (out / "read-only").mkdir(parents=True)
    results = Results()
    summary = {"seed": arguments.seed}
    began = time.monotonic()
    for check in (check_disk_full, check_read_only_at_start):
        try:
            check(arguments, out, results, summary)
        except CheckFailed as failure:
            results.fail(str(failure).split("\n", 1)[0], str(failure))
        except Exception as error:  # A broken server or test is a failure too, with its reason.
            results.fail(f"{check.__name__}: {type(error).__name__}: {error}")
    summary["seconds"] = round(time.monotonic() - began, 1)
    summary["passed"] = not results.failures
    summary["failures"] = results.failures
    (out / "storage_faults.json").write_text(json.dumps(summary, indent=2) + "\n")
    print("summary:", json.dumps(summary, indent=2), flush=True)
    if results.failures:
        print(f"FAILED: {len(results.failures)} check(s); server logs in {out}/full and {out}/read-only", file=sys.stderr, flush=True)
        return 1
    print("ALL PASSED", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
