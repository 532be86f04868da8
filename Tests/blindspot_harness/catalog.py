"""Reports filed to a server under test and what must become of them: new report forms, and the checks that every
acknowledged report is served and stored whole (SQLite or PostgreSQL rows, the image files on disk)."""
import csv
import hashlib
import http.client
import io
import json
import sqlite3
import time

from .api import multipart
from .images import PNG_END, PNG_SIGNATURE, noise_png

REQUEST_TIMEOUT_S = 20


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
