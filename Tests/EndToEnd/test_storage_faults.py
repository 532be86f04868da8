"""Storage faults of the catalog against a real `blindspot serve` on small tmpfs mounts (root only: a full or read-only
disk cannot be faked with chmod for root, and mounting needs root): a disk that fills up, and --data read-only at
start. Every mount is unmounted whatever happens; the summary goes to OUT/storage_faults.json."""
import http.client
import json
import os
import random
import shutil
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from blindspot_harness import catalog
from blindspot_harness.api import call, post
from blindspot_harness.images import noise_png
from blindspot_harness.results import problems_shown
from blindspot_harness.server import Server, serving

if os.geteuid() != 0:
    pytest.skip("storage faults need root to mount tmpfs file systems (a full or read-only disk cannot be faked otherwise)",
                allow_module_level=True)

SEED = 20240602
SUMMARY = "storage_faults.json"
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
REQUEST_TIMEOUT_S = catalog.REQUEST_TIMEOUT_S


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


class Filer(threading.Thread):
    """Files reports until AFTER_FULL answers after its first 507, or until told to stop."""

    def __init__(self, number, seed, base_url, stop):
        super().__init__(name=f"filer-{number}", daemon=True)
        self.number, self.base_url, self.stop = number, base_url, stop
        self.rng = random.Random(f"{seed}:filer:{number}")
        self.acknowledged = []  # (id, SHA-256, note, class)
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
                body, content_type, sent = catalog.report_form(self.rng, f"storage faults: filer {self.number} report {sequence}", IMAGE_SIZE)
                try:
                    answer = post(self.base_url, "/api/v1/blindspots", body, content_type, timeout=REQUEST_TIMEOUT_S)
                except (OSError, http.client.HTTPException) as error:
                    self.errors.append(f"report {sequence}: {type(error).__name__}: {error}")
                    continue
                self.slowest = max(self.slowest, answer.seconds)
                self.answers[f"{answer.status} {'' if answer.status == 201 else answer.code}".strip()] += 1
                if answer.status == 201:
                    self.acknowledged.append((answer.json["id"], *sent))
                elif answer.status == 507 and self.after_full is None:
                    self.after_full = 0
                if answer.status != 201:
                    if self.after_full is not None:
                        self.after_full += 1
                    if "/" in answer.json["error"]["message"]:
                        self.leaks.append(f"{answer.status}: {answer.data[:300]!r}")
        except Exception as error:  # A bug in the test is a failure too.
            self.errors.append(f"crash: {type(error).__name__}: {error}")


def fresh(folder):
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def readiness(server):
    answer = call(server.base_url, "/readyz")
    return answer.status, answer.json or {}


class TestDiskFull:
    """The catalog (--data) on an 8 MB tmpfs while 4 clients file reports (each a new 160×120 noise PNG) until the disk
    is full and past it; then the tmpfs grows to 32 MB, and the server is restarted on the same data."""

    @pytest.fixture(scope="class")
    def mount(self, out):
        with Tmpfs(out / "full-mount", FULL_MOUNT_MB) as mount:
            yield mount

    @pytest.fixture(scope="class")
    def server(self, blindspot, option, out, mount):
        full = Server(blindspot, fresh(out / "full") / "server.log", option.model, data=mount.directory / "data", arguments=["--rate-limit", "0"])
        full.start()
        full.wait_until_ready(60)
        yield full
        full.close()

    @pytest.fixture(scope="class")
    def filled(self, server, seed, summary):
        stop = threading.Event()
        filers = [Filer(number, seed, server.base_url, stop) for number in range(1, CLIENTS + 1)]
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
        summary.update(full_answers=dict(answers), full_acknowledged_before_full=len(acknowledged),
                       full_slowest_answer_s=round(slowest, 2), full_fill_seconds=round(time.monotonic() - began, 1))
        return filers, answers, acknowledged, slowest

    def test_clients_finished_in_time(self, filled):
        assert not any(filer.is_alive() for filer in filled[0]), f"the {CLIENTS} clients finished within {FILL_TIME_LIMIT_S} s"

    def test_every_request_got_an_answer(self, filled):
        errors = [line for filer in filled[0] for line in filer.errors]
        assert not errors, "every request got an answer (no lost connection, no timeout)" + problems_shown(errors)

    def test_every_answer_was_201_or_507_and_the_disk_filled(self, filled):
        answers = filled[1]
        assert set(answers) <= {"201", "507 insufficient_storage"} and answers["507 insufficient_storage"] > 0, \
            f"every answer was 201 or 507 insufficient_storage, and the disk did fill ({dict(answers)})"

    def test_server_keeps_answering_a_full_disk(self, filled):
        assert all(filer.after_full == AFTER_FULL for filer in filled[0]), f"each client got {AFTER_FULL} answers after its first 507"

    def test_no_answer_hangs(self, filled):
        assert filled[3] < 10, f"the slowest answer took {filled[3]:.2f} s (under 10 s: no hang)"

    def test_no_error_message_names_a_path(self, filled):
        leaks = [line for filer in filled[0] for line in filer.leaks]
        assert not leaks, "no error message names a path (holds a /)" + problems_shown(leaks)

    def test_reports_were_acknowledged_before_the_disk_was_full(self, filled):
        assert filled[2], f"reports were acknowledged before the disk was full ({len(filled[2])})"

    def test_health_reads_and_classification_answer_while_full(self, filled, server, mount, seed):
        status = call(server.base_url, "/healthz").status
        assert status == 200, f"/healthz answers {status} while the disk is full"
        status, ready = readiness(server)
        assert status == 200 and ready.get("catalog", {}).get("state") == "full" and str(mount.directory) not in json.dumps(ready), \
            f"/readyz answers {status} and says the catalog is full, without a path ({ready.get('catalog')})"
        status = call(server.base_url, f"/api/v1/blindspots/{filled[2][0][0]}").status
        assert status == 200, f"an acknowledged report is still read ({status}) while the disk is full"
        status = post(server.base_url, "/api/v1/classify", noise_png(random.Random(f"{seed}:classify")), "image/png").status
        assert status == 200, f"classification answers {status} while the disk is full"

    def test_a_report_is_stored_once_the_disk_grows(self, filled, server, mount, seed):
        mount.resize(GROWN_MOUNT_MB)
        body, content_type, sent = catalog.report_form(random.Random(f"{seed}:after"), "storage faults: after space was freed", IMAGE_SIZE)
        answer = post(server.base_url, "/api/v1/blindspots", body, content_type)
        assert answer.status == 201, f"with the tmpfs grown to {GROWN_MOUNT_MB} MB the next report is stored ({answer.status}) without a restart"
        filled[2].append((answer.json["id"], *sent))
        ready = readiness(server)[1]
        assert ready.get("catalog", {}).get("state") == "ready", f"/readyz says the catalog is ready again ({ready.get('catalog')})"

    @pytest.fixture(scope="class")
    def restarted(self, filled, server, summary):
        """Stops the server, starts it again on the same data, reads every acknowledged report, stops it again:
        (the first stop, what was served, the second stop)."""
        first = server.terminate()
        server.start()
        server.wait_until_ready(60)
        served = catalog.served(server.port, filled[2])
        summary["full_found_after_restart"] = served[0]
        return first, served, server.terminate()

    def test_server_stops_on_sigterm_and_again_after_a_restart(self, restarted):
        assert restarted[0][0], f"the server stopped on SIGTERM (exit status {restarted[0][1]})"
        assert restarted[2][0], f"the restarted server stopped on SIGTERM (exit status {restarted[2][1]})"

    def test_restarted_server_serves_every_acknowledged_report(self, restarted, filled):
        found, problems, image_problems = restarted[1]
        assert not problems, f"all {len(filled[2])} acknowledged reports are served as sent ({found} found)" + problems_shown(problems)
        assert not image_problems, "every acknowledged report's display image is served as a PNG" + problems_shown(image_problems)

    @pytest.fixture(scope="class")
    def stored(self, restarted, mount, summary):
        integrity, foreign, rows = catalog.sqlite_rows(mount.directory / "data")
        summary.update({f"full_{key}": value for key, value in catalog.leftover_files(mount.directory / "data", rows).items()})
        summary["full_rows"] = len(rows)
        return integrity, foreign, rows

    def test_sqlite_file_is_whole(self, stored):
        assert stored[0] == ["ok"], f"PRAGMA integrity_check of catalog.sqlite is ok ({'; '.join(stored[0])[:500]})"
        assert not stored[1], "PRAGMA foreign_key_check finds nothing" + problems_shown(stored[1])

    def test_every_acknowledged_report_is_stored_whole(self, stored, filled, mount):
        lost = catalog.lost_reports(stored[2], filled[2])
        assert not lost, f"every acknowledged report is a row as it was sent ({len(filled[2]) - len(lost)} of {len(filled[2])})" + problems_shown(lost)
        missing = catalog.missing_images(mount.directory / "data", stored[2])
        assert not missing, f"every row ({len(stored[2])}) has its original and its display PNG on disk" + problems_shown(missing)
        _, strangers = catalog.strangers(stored[2], filled[2], set())
        assert not strangers, "every row was acknowledged (no request lost its answer here)" + problems_shown(strangers)


class TestReadOnlyAtStart:
    """--data on a tmpfs mounted read-only, so that the catalog cannot be opened, and a second model whose weights file
    is broken: the server must still serve what does not need them, say why, and keep the detail in its log."""

    @pytest.fixture(scope="class")
    def mount(self, out):
        with Tmpfs(out / "read-only-mount", FULL_MOUNT_MB, read_only=True) as mount:
            yield mount

    @pytest.fixture(scope="class")
    def server(self, blindspot, option, out, mount):
        folder = fresh(out / "read-only")
        broken = folder / "broken-weights.pth"
        broken.write_bytes(b"not a checkpoint")
        server = Server(blindspot, folder / "server.log", f"{option.model},{BROKEN_MODEL}", data=mount.directory / "data",
                        arguments=["--rate-limit", "0", "--weights", f"{BROKEN_MODEL}={broken}"])
        with serving(server, ready_timeout=60):
            yield server

    @pytest.fixture(scope="class")
    def ready(self, server, summary):
        """/readyz's status and answer once the broken model is no longer loading."""
        deadline = time.monotonic() + 60
        status, ready = readiness(server)
        while {model["name"]: model["state"] for model in ready.get("models", [])}.get(BROKEN_MODEL) == "loading" and time.monotonic() < deadline:
            time.sleep(0.1)
            status, ready = readiness(server)
        summary["broken_model_readiness"] = next((model for model in ready.get("models", []) if model["name"] == BROKEN_MODEL), None)
        summary["read_only_readiness"] = ready.get("catalog")
        return status, ready

    def test_a_model_with_broken_weights_fails_alone(self, ready, option):
        models = {model["name"]: model for model in ready[1].get("models", [])}
        assert models.get(option.model, {}).get("state") == "ready" and models.get(BROKEN_MODEL, {}).get("state") == "failed" \
            and models[BROKEN_MODEL].get("reason"), f"a model whose weights are broken fails alone, and /readyz says why ({models.get(BROKEN_MODEL)})"

    def test_readyz_says_why_the_catalog_is_unavailable_without_a_path(self, ready, mount):
        status, answer = ready
        catalog_state = answer.get("catalog", {})
        assert status == 200 and catalog_state.get("state") == "unavailable" and "read-only" in (catalog_state.get("reason") or ""), \
            f"with --data on a read-only file system the server is up, /readyz answers {status} and says why the catalog is unavailable ({catalog_state})"
        assert str(mount.directory) not in json.dumps(answer), "/readyz names no path"

    def test_catalog_routes_answer_503(self, server, mount, seed, summary):
        body, content_type, _ = catalog.report_form(random.Random(f"{seed}:read-only"), "storage faults: read-only", IMAGE_SIZE)
        answer = post(server.base_url, "/api/v1/blindspots", body, content_type)
        summary["read_only_report_answer"] = f"{answer.status} {answer.code}"
        assert answer.status == 503 and answer.code == "catalog_unavailable" and str(mount.directory).encode() not in answer.data, \
            f"filing a report answers {answer.status} {answer.code}, without a path"
        status = call(server.base_url, "/api/v1/blindspots").status
        assert status == 503, f"listing reports answers {status}"

    def test_demo_page_and_classification_work(self, server, option, seed):
        status = call(server.base_url, "/").status
        assert status == 200, f"the demo page answers {status}"
        # Named: the default is the best model offered, here the broken one, which answers 503 model_unavailable.
        status = post(server.base_url, f"/api/v1/classify?model={option.model}", noise_png(random.Random(f"{seed}:classify")), "image/png").status
        assert status == 200, f"classification with {option.model} answers {status}"

    def test_log_names_the_data_directory_and_server_stops(self, server, mount):
        assert str(mount.directory) in server.output(), "the server's log names the data directory that failed"
        stopped, code = server.terminate()
        assert stopped, f"the server stopped on SIGTERM (exit status {code})"
