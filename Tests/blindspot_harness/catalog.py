"""Reports filed to a server under test and what must become of them: new report forms, and the checks that every
acknowledged report is served and stored whole (SQLite or PostgreSQL rows, the image files on disk)."""
import csv
import hashlib
import http.client
import io
import json
import random
import sqlite3
import threading
import time
from collections import Counter

from .api import Answer, multipart
from .images import PNG_END, PNG_SIGNATURE, noise_png
from .server import HOST

REQUEST_TIMEOUT_S = 20
# What a client waits before its next attempt when the server is down or loading, so that 16 clients spinning on
# refused connections and 503s do not starve the loading server of the machine's cores.
RETRY_PAUSE_S = 0.1


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def report_form(rng, note, size=(64, 48), filename="noise.png"):
    """A new report of a fresh noise PNG with a random class: (body, Content-Type, (SHA-256, note, class index))."""
    image = noise_png(rng, *size)
    expected = rng.randrange(1000)
    body, content_type = multipart([("image", filename, image), ("expected", None, str(expected).encode()), ("note", None, note.encode())])
    return body, content_type, (sha256(image), note, expected)


def described(report):
    """(image SHA-256, note, class index) of a report the API answered."""
    return (report.get("image") or {}).get("sha256"), report.get("note"), (report.get("expected") or {}).get("index")


def served(port, acknowledged):
    """GETs every acknowledged (id, SHA-256, note, class) report and its image: (how many matched, problems with the
    reports, problems with their images)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_S)

    def get(path):
        nonlocal connection
        for attempt in range(3):
            try:
                connection.request("GET", path)
                response = connection.getresponse()
                return response.status, response.read()
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_S)
                if attempt == 2:
                    raise
                time.sleep(0.2)

    found, problems, image_problems = 0, [], []
    for identifier, *sent in acknowledged:
        status, data = get(f"/api/v1/blindspots/{identifier}")
        if status != 200:
            problems.append(f"report {identifier} ({sent[0]}): GET answered {status}: {data[:200]!r}")
            continue
        answer = described(json.loads(data))
        if answer != tuple(sent):
            problems.append(f"report {identifier}: served {answer!r}, acknowledged {tuple(sent)!r}")
            continue
        found += 1
        status, data = get(f"/api/v1/blindspots/{identifier}/image")
        if status != 200 or not data.startswith(PNG_SIGNATURE):
            image_problems.append(f"report {identifier}: image answered {status}: {data[:100]!r}")
    connection.close()
    return found, problems, image_problems


def sqlite_rows(data):
    """The stopped server's DATA/catalog.sqlite: (PRAGMA integrity_check's lines, PRAGMA foreign_key_check's rows,
    the reports as id -> (SHA-256, note, class))."""
    database = sqlite3.connect(data / "catalog.sqlite")
    try:
        integrity = [row[0] for row in database.execute("PRAGMA integrity_check")]
        foreign = [repr(row) for row in database.execute("PRAGMA foreign_key_check")]
        rows = {row[0]: row[1:] for row in database.execute("SELECT id, imageSHA256, note, expectedIndex FROM report")}
        return integrity, foreign, rows
    finally:
        database.close()


def postgres_rows(postgres):
    """The PostgreSQL catalog: (verdicts that point to a missing report, the reports as id -> (SHA-256, note, class))."""
    orphans = postgres.sql("COPY (SELECT count(*) FROM verdict WHERE report_id NOT IN (SELECT id FROM report)) TO STDOUT").strip()
    output = postgres.sql("COPY (SELECT id, image_sha256, note, expected_index FROM report) TO STDOUT WITH (FORMAT csv)")
    return int(orphans), {int(row[0]): (row[1], row[2], int(row[3])) for row in csv.reader(io.StringIO(output, newline=""))}


def lost_reports(rows, acknowledged):
    """Acknowledged reports that are not a row as they were sent."""
    return [f"report {identifier}: {'no row' if identifier not in rows else f'the row holds {rows[identifier]!r}'}, "
            f"acknowledged {tuple(sent)!r}" for identifier, *sent in acknowledged if rows.get(identifier) != tuple(sent)]


def missing_images(data, rows):
    """Rows whose original (with the row's SHA-256) or whole display PNG is not in DATA/images."""
    missing = []
    for identifier, (digest, _, _) in sorted(rows.items()):
        folder = data / "images" / digest[:2]
        originals = sorted(folder.glob(f"{digest}.original.*")) if folder.is_dir() else []
        display = folder / f"{digest}.png"
        if len(originals) != 1:
            missing.append(f"report {identifier}: {len(originals)} originals for {digest} in {folder}")
        elif sha256(originals[0].read_bytes()) != digest:
            missing.append(f"report {identifier}: {originals[0].name} has SHA-256 {sha256(originals[0].read_bytes())}")
        if not display.is_file():
            missing.append(f"report {identifier}: no display copy {display}")
        elif not (display.read_bytes().startswith(PNG_SIGNATURE) and display.read_bytes().endswith(PNG_END)):
            missing.append(f"report {identifier}: the display copy {display} is not a whole PNG ({display.stat().st_size} bytes)")
    return missing


def postgres_missing_images(postgres, rows):
    """Rows whose image is not in PostgreSQL's image table whole: an original with the row's SHA-256 and a whole PNG."""
    output = postgres.sql("COPY (SELECT sha256, encode(sha256(original), 'hex'), encode(substring(display FROM 1 FOR 8), 'hex'), "
                          "encode(substring(display FROM greatest(length(display) - 7, 1)), 'hex') FROM image) TO STDOUT WITH (FORMAT csv)")
    images = {row[0]: row[1:] for row in csv.reader(io.StringIO(output, newline=""))}
    missing = []
    for identifier, (digest, _, _) in sorted(rows.items()):
        if digest not in images:
            missing.append(f"report {identifier}: no row of `image` for {digest}")
            continue
        original, start, end = images[digest]
        if original != digest:
            missing.append(f"report {identifier}: the stored original has SHA-256 {original}")
        if bytes.fromhex(start) != PNG_SIGNATURE or bytes.fromhex(end) != PNG_END:
            missing.append(f"report {identifier}: the stored display copy is not a whole PNG")
    return missing


def strangers(rows, acknowledged, unanswered):
    """(rows never acknowledged, those of them that belong to no request whose answer was lost)."""
    acknowledged_ids = {identifier for identifier, *_ in acknowledged}
    unacknowledged = {identifier: row for identifier, row in rows.items() if identifier not in acknowledged_ids}
    return unacknowledged, [f"report {identifier}: {row!r}" for identifier, row in sorted(unacknowledged.items()) if row[0] not in unanswered]


def leftover_files(data, rows):
    """What a kill may leave in DATA/images (both allowed): images of no report, and temporary .partial files."""
    referenced = {digest for digest, _, _ in rows.values()}
    images = data / "images"
    files = [path for path in images.rglob("*") if path.is_file()] if images.is_dir() else []
    partials = sum(path.name.endswith(".partial") for path in files)
    orphans = {path.name.split(".", 1)[0] for path in files if not path.name.endswith(".partial")} - referenced
    return {"images_without_a_report": len(orphans), "partial_files_left": partials}


class ReportingClient(threading.Thread):
    """Files reports until told to stop, each with a new image, over one keep-alive connection at a time. Keeps
    what was acknowledged and the SHA-256 of every request whose answer was lost (which may have been committed)."""

    def __init__(self, number, seed, port, stop, label="durability"):
        super().__init__(name=f"client-{number}", daemon=True)
        self.label = label
        self.number, self.port, self.stop = number, port, stop
        self.rng = random.Random(f"{seed}:client:{number}")
        self.acknowledged = []  # (id, SHA-256, note, class index)
        self.unanswered = set()  # SHA-256s of requests sent whose answer never came
        self.sent = 0
        self.refused = 0
        self.connection_errors = Counter()  # exception name -> count (refused connections included)
        self.unavailable = Counter()  # 503s by the error's code (model_unavailable while the model loads)
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
            note = f"{self.label} client {self.number:02d} report {sequence}: noise \u2014 \u00fcn\u00efc\u00f6de \u2713 & <b>\"quoted\"</b>"
            body, content_type, sent = report_form(self.rng, note, filename=f"noise-{self.number}-{sequence}.png")
            try:
                if connection is None:
                    connection = http.client.HTTPConnection(HOST, self.port, timeout=REQUEST_TIMEOUT_S)
                    connection.connect()
            except OSError as error:
                self.refused += 1
                self.connection_errors[type(error).__name__] += 1
                connection = self.close(connection)
                self.stop.wait(RETRY_PAUSE_S)
                continue
            self.sent += 1
            try:
                connection.request("POST", "/api/v1/blindspots", body=body, headers={"Content-Type": content_type})
                response = connection.getresponse()
                data = response.read()
            except (OSError, http.client.HTTPException) as error:
                self.connection_errors[type(error).__name__] += 1
                self.unanswered.add(sent[0])
                connection = self.close(connection)
                self.stop.wait(RETRY_PAUSE_S)
                continue
            if response.will_close:
                connection = self.close(connection)
            if response.status == 201:
                self.record(data, sent)
            elif response.status == 503:
                self.unavailable[Answer(503, {}, data, 0).code] += 1
                self.stop.wait(RETRY_PAUSE_S)
            else:
                self.unexpected.append(f"client {self.number} report {sequence}: status {response.status}: {data[:300]!r}")
        self.close(connection)

    def record(self, data, sent):
        try:
            report = json.loads(data)
            identifier = report["id"]
        except (ValueError, KeyError, TypeError):
            self.unexpected.append(f"client {self.number}: a 201 without a report id: {data[:300]!r}")
            return
        # It is acknowledged whatever it says; what it says must match what was sent too.
        self.acknowledged.append((identifier, *sent))
        if described(report) != sent:
            self.unexpected.append(f"client {self.number}: the 201 for report {identifier} says {described(report)!r}, not {sent!r}")

    @staticmethod
    def close(connection):
        if connection is not None:
            connection.close()
        return None
