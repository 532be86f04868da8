#!/usr/bin/env python3
"""Durability test of the catalog: nothing `blindspot serve` acknowledged is ever lost, however it dies.

Starts `blindspot serve` on a free port with a fresh --data folder (SQLite catalog, or with --database postgres a
throwaway PostgreSQL cluster that scripts/postgres.sh starts under OUT/postgres and stops at the end), and lets 16 client threads file
reports (POST /api/v1/blindspots, each with its own random-noise PNG made here, so every report is a new one) over
keep-alive connections while the main thread kills the server with SIGKILL at random moments (seeded: 0.3-2.5 s after
it became ready, and now and then while it is still loading) and restarts it on the same port and data folder. Every
201 is an acknowledged report. After the last restart the clients stop, and the test checks that every acknowledged
report is served by GET /api/v1/blindspots/{id} with the SHA-256 of the bytes its client sent, its class and its note
verbatim, and its image; then it stops the server with SIGTERM and checks the files: `PRAGMA integrity_check` is "ok"
(SQLite), every acknowledged report is a row as it was sent, every row has its original (whose SHA-256 is the row's
imageSHA256) and its display PNG on disk, and every row that was never acknowledged belongs to a request whose answer
was lost when the server died (those are counted as "committed but not acknowledged", which is allowed). No start of
the server may exit by itself or print a Swift runtime failure, the killed ones included (demo_e2e.check_survived).

With PostgreSQL it also makes the database read-only (default_transaction_read_only, sessions ended so the server's
pool reconnects) while the server runs: reports must get 503 with Retry-After, never a 500, and be stored again once
the database is writable.

    python3 Tests/EndToEnd/durability_test.py --blindspot .build/release/blindspot --out .build/test-output/durability
    python3 Tests/EndToEnd/durability_test.py --database postgres --kills 10 --out .build/test-output/durability-postgres

Prints a summary (also written to OUT/durability.json) and PASS/FAIL lines; exits 0 only if every check passed.
The server's output goes to OUT/server.log; the data folder is OUT/data, kept when the test fails. Needs only the
model's weights (`make weights`), not ../shared. --seed makes the images, classes and kill moments reproducible.
"""
import csv
import glob
import hashlib
import http.client
import io
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import struct
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import zlib
from collections import Counter
from pathlib import Path

from api_contract import multipart
from demo_e2e import CheckFailed, check_survived, free_port, passed, script_arguments

HOST = "127.0.0.1"
READY_TIMEOUT_S = 60
REQUEST_TIMEOUT_S = 20
STOP_TIMEOUT_S = 20
CLIENT_JOIN_TIMEOUT_S = 2 * REQUEST_TIMEOUT_S + 5
# What a client waits before its next attempt when the server is down or loading, so that 16 clients spinning on
# refused connections and 503s do not starve the loading server of the machine's cores.
RETRY_PAUSE_S = 0.1
# Seconds the server lives once ready before it is killed, and how often a start is also killed while it loads.
UPTIME_S = (0.3, 2.5)
LOADING_KILL_CHANCE = 0.25
LOADING_KILL_DELAY_S = (0.0, 1.0)
# Seconds the clients keep going against the last server, which is not killed, before they stop.
LAST_RUN_S = 1.0
IMAGE_WIDTH, IMAGE_HEIGHT = 64, 48
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def parse_arguments():
    parser = script_arguments(__doc__, ".build/test-output/durability", "where the summary, server log and data go", shared=False)
    parser.add_argument("--kills", type=int, default=20, help="SIGKILLs of a ready server (default: 20; kills while loading come on top)")
    parser.add_argument("--clients", type=int, default=16, help="client threads filing reports (default: 16)")
    parser.add_argument("--seed", type=int, default=20240601, help="seed of the images, classes, notes and kill moments")
    parser.add_argument("--time-limit", type=float, default=240,
                        help="seconds the killing and restarting may take before the test fails (default: 240)")
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite",
                        help="where the catalog lives: DATA/catalog.sqlite, or a throwaway PostgreSQL cluster (default: sqlite)")
    arguments = parser.parse_args()
    if arguments.kills < 1 or arguments.clients < 1:
        parser.error("--kills and --clients must be at least 1")
    return arguments


def noise_png(rng, width=IMAGE_WIDTH, height=IMAGE_HEIGHT):
    """A valid RGB PNG of random noise from `rng`: unique for every call in practice."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + rng.randbytes(width * 3) for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return PNG_SIGNATURE + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def error_code(data):
    """The code of an {"error": {"code", "message"}} answer, or "?"."""
    try:
        return str(json.loads(data)["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return "?"


def sha256(data):
    return hashlib.sha256(data).hexdigest()


class RestartableServer:
    """`blindspot serve` that is killed and started again on the same port and --data folder (demo_e2e.py's Server
    is one process on a fresh port and folder that it deletes). Every start's output is appended to one log."""

    def __init__(self, binary, model, out, data, database_url=None, extra_arguments=()):
        self.binary, self.model, self.data, self.database_url = binary, model, data, database_url
        self.extra_arguments = list(extra_arguments)
        self.port = free_port()
        self.base_url = f"http://{HOST}:{self.port}"
        self.log_path = out / "server.log"
        self.log = open(self.log_path, "wb")
        self.process = None
        self.starts = 0
        self.start_offset = 0

    def command(self):
        return [self.binary, "serve", "--host", HOST, "--port", str(self.port), "--data", str(self.data),
                "--models", self.model, "--examples", "/nonexistent", "--rate-limit", "0"  # 16 clients share one address
                ] + (["--database", self.database_url] if self.database_url else []) + self.extra_arguments

    def start(self):
        self.starts += 1
        self.log.write(f"\n=== durability_test: start {self.starts} ===\n".encode())
        self.log.flush()
        self.start_offset = self.log.tell()
        if self.starts == 1:
            print("starting:", " ".join(self.command()), flush=True)
        self.process = subprocess.Popen(self.command(), stdout=self.log, stderr=subprocess.STDOUT)

    def output(self):
        self.log.flush()
        return self.log_path.read_text(errors="replace")

    def current_output(self):
        """What the running (or last) start printed."""
        self.log.flush()
        with open(self.log_path, "rb") as log:
            log.seek(self.start_offset)
            return log.read().decode(errors="replace")

    def is_ready(self):
        try:
            with urllib.request.urlopen(f"{self.base_url}/readyz", timeout=2) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError, http.client.HTTPException):
            return False

    def wait_until_ready(self, deadline):
        started = time.monotonic()
        limit = min(started + READY_TIMEOUT_S, deadline)
        while time.monotonic() < limit:
            if self.process.poll() is not None:
                self.check_survived()  # fails: it exited by itself before it was ready
            if self.is_ready():
                return
            time.sleep(0.05)
        raise CheckFailed(f"/readyz did not answer 200 within {limit - started:.0f} s of start {self.starts} "
                          f"(at most {READY_TIMEOUT_S} s, less near the test's time limit); its output:\n{self.current_output()[-4000:]}")

    def check_survived(self, killed=False):
        """Fails unless the current start of the server is still running (or was `killed` by the test) and printed no
        Swift runtime failure (demo_e2e.check_survived)."""
        check_survived(f"start {self.starts} of the server", self.process, self.current_output(), killed)

    def kill(self):
        """SIGKILL; fails if the server had already exited by itself, or printed a Swift runtime failure before it was
        killed."""
        self.check_survived()
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=STOP_TIMEOUT_S)
        self.check_survived(killed=True)

    def terminate(self):
        """SIGTERM and wait; (exited in time, exit status). Kills it if it does not stop. Fails if the server had
        exited by itself, or printed a Swift runtime failure before or while stopping."""
        if self.process is None:
            return True, None
        self.check_survived()
        self.process.terminate()
        try:
            stopped, status = True, self.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            stopped, status = False, self.process.wait()
        self.check_survived(killed=True)
        passed(f"start {self.starts} of the server (pid {self.process.pid}) ran until it was stopped, and its output holds no "
               "Swift runtime failure")
        return stopped, status

    def close(self):
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.log.close()


class Postgres:
    """A throwaway PostgreSQL cluster under OUT/postgres, from scripts/postgres.sh (as `make test-swift` starts one),
    stopped by stop() whatever happened."""

    def __init__(self, out):
        self.directory = (out / "postgres").resolve()
        self.script = Path(__file__).resolve().parents[2] / "scripts" / "postgres.sh"
        self.url = None
        candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"), key=lambda path: [int(part) for part in re.findall(r"\d+", path)])
        self.psql = candidates[-1] if candidates else shutil.which("psql")

    @property
    def database(self):
        return self.url.rsplit("/", 1)[1]

    def start(self):
        if not self.psql:
            raise CheckFailed("no psql: install PostgreSQL (scripts/setup.sh test)")
        result = subprocess.run([str(self.script), "start", str(self.directory), str(free_port())], capture_output=True, text=True, timeout=180)
        if result.returncode != 0 or not result.stdout.strip():
            raise CheckFailed(f"scripts/postgres.sh start failed (status {result.returncode}):\n{result.stderr[-3000:]}")
        self.url = result.stdout.strip().splitlines()[-1]
        passed(f"a throwaway PostgreSQL cluster answers at {self.url}")

    def stop(self):
        if self.url is not None:
            subprocess.run([str(self.script), "stop", str(self.directory)], timeout=120, check=False)

    def sql(self, statement, database=None):
        """Runs `statement` (in `database`, default the test's) and returns its output."""
        url = self.url if database is None else self.url.rsplit("/", 1)[0] + "/" + database
        environment = dict(os.environ, PGCLIENTENCODING="UTF8")
        result = subprocess.run([self.psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", statement],
                                capture_output=True, text=True, encoding="utf-8", timeout=60, env=environment)
        if result.returncode != 0:
            raise CheckFailed(f"psql failed on {statement!r}: {result.stderr.strip()}")
        return result.stdout

    def end_sessions(self):
        """Ends every session of the test's database, so that the server's pool reconnects (and sees new settings)."""
        self.sql(f"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '{self.database}' "
                 "AND pid <> pg_backend_pid()", database="postgres")


class Client(threading.Thread):
    """Files reports until told to stop, each with a new image, over one keep-alive connection at a time. Keeps
    what was acknowledged and the SHA-256 of every request whose answer was lost (which may have been committed)."""

    def __init__(self, number, seed, port, stop):
        super().__init__(name=f"client-{number}", daemon=True)
        self.number, self.port, self.stop = number, port, stop
        self.rng = random.Random(f"{seed}:client:{number}")
        self.acknowledged = []  # (id, sha256, note, expected index)
        self.unanswered = set()  # SHA-256s of requests sent whose answer never came
        self.sent = 0
        self.refused = 0
        self.connection_errors = {}  # exception name -> count (refused connections included)
        self.unavailable = {}  # 503s by the error's code (model_unavailable while the model loads)
        self.unexpected = []  # descriptions of any other answer, and of 201s that do not match the request
        self.crash = None

    def run(self):
        try:
            self.file_reports()
        except Exception as error:  # A bug in the test is a failure too, not a silently idle client.
            self.crash = f"{type(error).__name__}: {error}"

    def file_reports(self):
        connection = None
        sequence = 0
        while not self.stop.is_set():
            sequence += 1
            image = noise_png(self.rng)
            expected = self.rng.randrange(1000)
            note = f"durability client {self.number:02d} report {sequence}: noise \u2014 \u00fcn\u00efc\u00f6de \u2713 & <b>\"quoted\"</b>"
            body, content_type = multipart([("image", f"noise-{self.number}-{sequence}.png", image),
                                            ("expected", None, str(expected).encode()), ("note", None, note.encode())])
            digest = sha256(image)
            try:
                if connection is None:
                    connection = http.client.HTTPConnection(HOST, self.port, timeout=REQUEST_TIMEOUT_S)
                    connection.connect()
            except OSError as error:
                self.count_error(error, refused=True)
                connection = self.close(connection)
                self.stop.wait(RETRY_PAUSE_S)
                continue
            self.sent += 1
            try:
                connection.request("POST", "/api/v1/blindspots", body=body, headers={"Content-Type": content_type})
                response = connection.getresponse()
                data = response.read()
            except (OSError, http.client.HTTPException) as error:
                self.count_error(error)
                self.unanswered.add(digest)
                connection = self.close(connection)
                self.stop.wait(RETRY_PAUSE_S)
                continue
            if response.will_close:
                connection = self.close(connection)
            if response.status == 201:
                self.record(data, digest, note, expected)
            elif response.status == 503:
                code = error_code(data)
                self.unavailable[code] = self.unavailable.get(code, 0) + 1
                self.stop.wait(RETRY_PAUSE_S)
            else:
                self.unexpected.append(f"client {self.number} report {sequence}: status {response.status}: {data[:300]!r}")
        self.close(connection)

    def record(self, data, digest, note, expected):
        try:
            report = json.loads(data)
            identifier = report["id"]
        except (ValueError, KeyError, TypeError):
            self.unexpected.append(f"client {self.number}: a 201 without a report id: {data[:300]!r}")
            return
        # It is acknowledged whatever it says; what it says must match what was sent too.
        self.acknowledged.append((identifier, digest, note, expected))
        answered = ((report.get("image") or {}).get("sha256"), report.get("note"), (report.get("expected") or {}).get("index"))
        if answered != (digest, note, expected):
            self.unexpected.append(f"client {self.number}: the 201 for report {identifier} says {answered!r}, "
                                   f"not {(digest, note, expected)!r}")

    def count_error(self, error, refused=False):
        if refused:
            self.refused += 1
        name = type(error).__name__
        self.connection_errors[name] = self.connection_errors.get(name, 0) + 1

    @staticmethod
    def close(connection):
        if connection is not None:
            connection.close()
        return None


class Results:
    """The final checks: each is printed as PASS or FAIL and kept; none stops the others."""

    def __init__(self):
        self.failures = []
        self.passes = []

    def check(self, condition, message, details=()):
        if condition:
            passed(message)
            self.passes.append(message)
        else:
            details = list(details)
            shown = "".join(f"\n    {line}" for line in details[:10])
            more = f"\n    … and {len(details) - 10} more" if len(details) > 10 else ""
            self.fail(message, f"{message}{shown}{more}")

    def fail(self, message, shown=None):
        """Records a failure as `message`, printing `shown` (which may say more) in its place."""
        print(f"FAIL: {shown or message}", file=sys.stderr, flush=True)
        self.failures.append(message)


def kill_and_restart(server, arguments, deadline, clients, stats):
    """Kills the ready server --kills times (and now and then while it loads), restarting it each time; returns
    with the last start ready."""
    rng = random.Random(f"{arguments.seed}:kills")
    server.start()
    server.wait_until_ready(deadline)
    passed(f"the server is ready at {server.base_url}")
    for client in clients:
        client.start()
    for kill in range(1, arguments.kills + 1):
        if time.monotonic() > deadline:
            raise CheckFailed(f"the time limit ({arguments.time_limit:.0f} s) passed after {kill - 1} of {arguments.kills} kills")
        time.sleep(rng.uniform(*UPTIME_S))
        crashed = [client.name for client in clients if not client.is_alive()]
        if crashed:
            raise CheckFailed(f"client threads stopped early: {', '.join(crashed)}: {[c.crash for c in clients if c.crash]}")
        server.kill()
        stats["kills"] += 1
        server.start()
        stats["restarts"] += 1
        if rng.random() < LOADING_KILL_CHANCE:
            time.sleep(rng.uniform(*LOADING_KILL_DELAY_S))
            ready = server.is_ready()
            server.kill()
            stats["kills"] += 1
            stats["kills_while_loading"] += 0 if ready else 1
            server.start()
            stats["restarts"] += 1
        server.wait_until_ready(deadline)
        print(f"kill {kill}/{arguments.kills}: restarted (start {server.starts}); "
              f"{sum(len(c.acknowledged) for c in clients)} reports acknowledged so far", flush=True)


def verify_through_api(server, acknowledged, results):
    """GET every acknowledged report and its image; returns how many matched."""
    connection = http.client.HTTPConnection(HOST, server.port, timeout=REQUEST_TIMEOUT_S)

    def get(path):
        nonlocal connection
        for attempt in range(3):
            try:
                connection.request("GET", path)
                response = connection.getresponse()
                return response.status, response.read()
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection(HOST, server.port, timeout=REQUEST_TIMEOUT_S)
                if attempt == 2:
                    raise
                time.sleep(0.2)

    found, problems, image_problems = 0, [], []
    for identifier, digest, note, expected in acknowledged:
        status, data = get(f"/api/v1/blindspots/{identifier}")
        if status != 200:
            problems.append(f"report {identifier} ({digest}): GET answered {status}: {data[:200]!r}")
            continue
        report = json.loads(data)
        served = ((report.get("image") or {}).get("sha256"), report.get("note"), (report.get("expected") or {}).get("index"))
        if served != (digest, note, expected):
            problems.append(f"report {identifier}: served {served!r}, acknowledged {(digest, note, expected)!r}")
            continue
        found += 1
        status, data = get(f"/api/v1/blindspots/{identifier}/image")
        if status != 200 or not data.startswith(PNG_SIGNATURE):
            image_problems.append(f"report {identifier}: image answered {status}: {data[:100]!r}")
    connection.close()
    results.check(not problems, f"all {len(acknowledged)} acknowledged reports are served with the sent image's SHA-256, class and note "
                  f"({found} found)", problems)
    results.check(not image_problems, "every acknowledged report's display image is served as a PNG", image_problems)
    return found


def sqlite_rows(data, results):
    """The reports in the stopped server's SQLite file, id -> (SHA-256, note, class), after checking the file."""
    database = sqlite3.connect(data / "catalog.sqlite")
    try:
        integrity = [row[0] for row in database.execute("PRAGMA integrity_check")]
        results.check(integrity == ["ok"], f"PRAGMA integrity_check of catalog.sqlite is ok ({'; '.join(integrity)[:500]})")
        foreign = database.execute("PRAGMA foreign_key_check").fetchall()
        results.check(not foreign, "PRAGMA foreign_key_check finds nothing", [repr(row) for row in foreign])
        return {row[0]: row[1:] for row in database.execute("SELECT id, imageSHA256, note, expectedIndex FROM report")}
    finally:
        database.close()


def postgres_rows(postgres, results):
    """The reports in the PostgreSQL catalog, id -> (SHA-256, note, class), after checking that no verdict is orphaned."""
    orphans = postgres.sql("COPY (SELECT count(*) FROM verdict WHERE report_id NOT IN (SELECT id FROM report)) TO STDOUT").strip()
    results.check(orphans == "0", f"no verdict points to a missing report ({orphans} do)")
    output = postgres.sql("COPY (SELECT id, image_sha256, note, expected_index FROM report) TO STDOUT WITH (FORMAT csv)")
    return {int(row[0]): (row[1], row[2], int(row[3])) for row in csv.reader(io.StringIO(output, newline=""))}


def verify_files(data, rows, acknowledged, unanswered, results):
    """Checks the stored rows against what was acknowledged, and the images on disk; returns what it counted."""
    counts = {"rows": len(rows)}

    lost = [f"report {identifier}: {'no row' if identifier not in rows else f'the row holds {rows[identifier]!r}'}, "
            f"acknowledged {(digest, note, expected)!r}"
            for identifier, digest, note, expected in acknowledged if rows.get(identifier) != (digest, note, expected)]
    results.check(not lost, f"every acknowledged report is a row of `report` as it was sent ({len(acknowledged) - len(lost)} of {len(acknowledged)})", lost)

    images = data / "images"
    missing = []
    referenced = set()
    for identifier, (digest, _, _) in sorted(rows.items()):
        referenced.add(digest)
        folder = images / digest[:2]
        originals = sorted(folder.glob(f"{digest}.original.*")) if folder.is_dir() else []
        display = folder / f"{digest}.png"
        if len(originals) != 1:
            missing.append(f"report {identifier}: {len(originals)} originals for {digest} in {folder}")
        elif sha256(originals[0].read_bytes()) != digest:
            missing.append(f"report {identifier}: {originals[0].name} has SHA-256 {sha256(originals[0].read_bytes())}")
        if not display.is_file():
            missing.append(f"report {identifier}: no display copy {display}")
        else:
            png = display.read_bytes()
            if not (png.startswith(PNG_SIGNATURE) and png.endswith(b"IEND\xaeB`\x82")):
                missing.append(f"report {identifier}: the display copy {display} is not a whole PNG ({len(png)} bytes)")
    results.check(not missing, f"every row of `report` ({len(rows)}) has its original (with the row's SHA-256) and its display PNG on disk", missing)

    acknowledged_ids = {identifier for identifier, _, _, _ in acknowledged}
    unacknowledged = {identifier: row for identifier, row in rows.items() if identifier not in acknowledged_ids}
    strangers = [f"report {identifier}: {row!r}" for identifier, row in sorted(unacknowledged.items()) if row[0] not in unanswered]
    counts["committed_but_not_acknowledged"] = len(unacknowledged)
    results.check(not strangers, f"every row that was never acknowledged ({len(unacknowledged)}) belongs to a request whose answer was lost "
                  "when the server died", strangers)

    orphans, partials = set(), 0
    for path in images.rglob("*") if images.is_dir() else []:
        if path.is_file():
            if path.name.endswith(".partial"):
                partials += 1
            elif path.name.split(".", 1)[0] not in referenced:
                orphans.add(path.name.split(".", 1)[0])
    counts["images_without_a_report"] = len(orphans)
    counts["partial_files_left"] = partials
    return counts


def file_one_report(port, rng, note):
    """POSTs one new report; (status, error code or None, Retry-After, what was sent: (id or None, SHA-256, note, class))."""
    image = noise_png(rng)
    expected = rng.randrange(1000)
    body, content_type = multipart([("image", "noise.png", image), ("expected", None, str(expected).encode()), ("note", None, note.encode())])
    connection = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT_S)
    try:
        connection.request("POST", "/api/v1/blindspots", body=body, headers={"Content-Type": content_type})
        response = connection.getresponse()
        data = response.read()
    finally:
        connection.close()
    identifier = json.loads(data).get("id") if response.status == 201 else None
    code = None if response.status in (200, 201) else error_code(data)
    return response.status, code, response.getheader("Retry-After"), (identifier, sha256(image), note, expected)


def check_read_only_database(server, postgres, arguments, acknowledged, results):
    """Makes the database read-only under the running server, then writable again; returns the statuses seen. Reports
    stored once it is writable join `acknowledged`."""
    rng = random.Random(f"{arguments.seed}:read-only")
    postgres.sql(f"ALTER DATABASE {postgres.database} SET default_transaction_read_only = on", database="postgres")
    postgres.end_sessions()
    # The first answers may come from sessions that were just ended (503 database_unavailable); the pool then reconnects.
    answers = []
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and sum(code == "storage_read_only" for _, code, _, _ in answers) < 3:
        answers.append(file_one_report(server.port, rng, f"read-only database, attempt {len(answers) + 1}"))
        if answers[-1][0] != 503:
            break
        time.sleep(0.1)
    statuses = Counter(f"{status} {code}" for status, code, _, _ in answers)
    results.check(all(status == 503 and retry_after for status, _, retry_after, _ in answers),
                  f"while the database is read-only every report gets 503 with Retry-After ({dict(statuses)})",
                  [f"{status} {code} Retry-After {retry_after}" for status, code, retry_after, _ in answers])
    results.check(any(code == "storage_read_only" for _, code, _, _ in answers), "the read-only database is named as such (storage_read_only)")
    postgres.sql(f"ALTER DATABASE {postgres.database} RESET default_transaction_read_only", database="postgres")
    postgres.end_sessions()
    deadline = time.monotonic() + 15
    stored = None
    while stored is None and time.monotonic() < deadline:
        status, code, _, sent = file_one_report(server.port, rng, "the database is writable again")
        statuses[f"{status} {code}"] += 1
        if status == 201:
            stored = sent
            acknowledged.append(sent)
        elif status != 503:
            break
        else:
            time.sleep(0.2)
    results.check(stored is not None, "once the database is writable again a report is stored (201) within 15 s")
    return dict(statuses)


def main():
    arguments = parse_arguments()
    out = Path(arguments.out)
    out.mkdir(parents=True, exist_ok=True)
    data = out / "data"
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir()
    began = time.monotonic()
    deadline = began + arguments.time_limit
    stats = {"kills": 0, "kills_while_loading": 0, "restarts": 0}
    results = Results()
    server = RestartableServer(arguments.blindspot, arguments.model, out, data)
    postgres = Postgres(out) if arguments.database == "postgres" else None
    read_only_statuses = None
    stop = threading.Event()
    clients = [Client(number, arguments.seed, server.port, stop) for number in range(1, arguments.clients + 1)]
    counts = {}
    found = 0
    acknowledged = []
    try:
        try:
            if postgres:
                postgres.start()
                server.database_url = postgres.url
            kill_and_restart(server, arguments, deadline, clients, stats)
            time.sleep(LAST_RUN_S)
        finally:
            stop.set()
            for client in clients:
                if client.ident is not None:  # started
                    client.join(timeout=CLIENT_JOIN_TIMEOUT_S)
        results.check(not any(client.is_alive() for client in clients), f"the {len(clients)} clients stopped within {CLIENT_JOIN_TIMEOUT_S} s")
        crashes = [f"{client.name}: {client.crash}" for client in clients if client.crash]
        results.check(not crashes, "no client thread crashed", crashes)
        acknowledged = [entry for client in clients for entry in client.acknowledged]
        unanswered = set().union(*(client.unanswered for client in clients))
        unexpected = [line for client in clients for line in client.unexpected]
        results.check(stats["kills"] >= arguments.kills, f"the server was killed {stats['kills']} times (at least {arguments.kills}), "
                      f"{stats['kills_while_loading']} of them while loading")
        results.check(acknowledged, f"{len(acknowledged)} reports were acknowledged")
        results.check(not unexpected, "every answer was 201 (a new report, matching the request) or 503", unexpected)
        reused = sorted(identifier for identifier, count in Counter(entry[0] for entry in acknowledged).items() if count > 1)
        results.check(not reused, "no report id was acknowledged twice (an id handed out again means a lost report)",
                      [f"id {identifier}: {[entry for entry in acknowledged if entry[0] == identifier]}" for identifier in reused])

        if postgres:
            read_only_statuses = check_read_only_database(server, postgres, arguments, acknowledged, results)
        found = verify_through_api(server, acknowledged, results)
        stopped, status = server.terminate()
        results.check(stopped, f"the server stopped on SIGTERM within {STOP_TIMEOUT_S} s (exit status {status})")
        rows = postgres_rows(postgres, results) if postgres else sqlite_rows(data, results)
        counts = verify_files(data, rows, acknowledged, unanswered, results)
    except CheckFailed as failure:
        results.fail(str(failure).split("\n", 1)[0], str(failure))
    except Exception as error:  # A broken server or test is a failure too, with its reason.
        reason = f"{type(error).__name__}: {error}"
        results.fail(reason, f"{reason}\nserver output ({server.log_path}):\n{server.output()[-4000:]}")
    finally:
        server.close()
        if postgres:
            postgres.stop()

    errors = {}
    for client in clients:
        for name, count in client.connection_errors.items():
            errors[name] = errors.get(name, 0) + count
    unavailable = {}
    for client in clients:
        for code, count in client.unavailable.items():
            unavailable[code] = unavailable.get(code, 0) + count
    summary = {
        "database": arguments.database,
        "seed": arguments.seed,
        "clients": arguments.clients,
        "kills": stats["kills"],
        "kills_while_loading": stats["kills_while_loading"],
        "restarts": stats["restarts"],
        "requests_sent": sum(client.sent for client in clients),
        "connections_refused": sum(client.refused for client in clients),
        "acknowledged": len(acknowledged),
        "found": found,
        "connection_errors": sum(errors.values()),
        "connection_errors_by_kind": errors,
        "status_503": sum(unavailable.values()),
        "status_503_by_code": unavailable,
        "committed_but_not_acknowledged": counts.get("committed_but_not_acknowledged"),
        "report_rows": counts.get("rows"),
        "images_without_a_report": counts.get("images_without_a_report"),
        "partial_files_left": counts.get("partial_files_left"),
        "read_only_database_statuses": read_only_statuses,
        "seconds": round(time.monotonic() - began, 1),
        "passed": not results.failures,
        "failures": results.failures,
    }
    (out / "durability.json").write_text(json.dumps(summary, indent=2) + "\n")
    print("summary:", flush=True)
    for key, value in summary.items():
        if key not in ("failures", "connection_errors_by_kind", "status_503_by_code"):
            print(f"  {key.replace('_', ' ')}: {value}", flush=True)
    print(f"  connection errors by kind: {', '.join(f'{name} {count}' for name, count in sorted(errors.items())) or 'none'}", flush=True)
    print(f"  503s by code: {', '.join(f'{code} {count}' for code, count in sorted(unavailable.items())) or 'none'}", flush=True)
    print("  (images without a report were stored by requests that died before their row was committed; "
          "partial files are temporary files a kill left behind: both are allowed)", flush=True)
    if results.failures:
        print(f"FAILED: {len(results.failures)} check(s); data kept in {data}, server output in {server.log_path}", file=sys.stderr, flush=True)
        return 1
    shutil.rmtree(data, ignore_errors=True)
    print("ALL PASSED", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
