"""Durability of the catalog: 16 clients file reports while `blindspot serve` is SIGKILLed at random moments and
restarted; nothing it acknowledged may be lost (SQLite, or PostgreSQL with --database postgres, where the database
is also made read-only under the running server). Summary in OUT/durability.json; OUT/data is kept when a test fails."""
import random
import shutil
import threading
import time
from collections import Counter

import pytest

from blindspot_harness import catalog
from blindspot_harness.api import post
from blindspot_harness.postgres import running
from blindspot_harness.results import problems_shown
from blindspot_harness.server import Server

SEED = 20240601
SUMMARY = "durability.json"
READY_TIMEOUT_S = 60
REQUEST_TIMEOUT_S = catalog.REQUEST_TIMEOUT_S
CLIENT_JOIN_TIMEOUT_S = 2 * REQUEST_TIMEOUT_S + 5
# Seconds the server lives once ready before it is killed, and how often a start is also killed while it loads.
UPTIME_S = (0.3, 2.5)
LOADING_KILL_CHANCE = 0.25
LOADING_KILL_DELAY_S = (0.0, 1.0)
# Seconds the clients keep going against the last server, which is not killed, before they stop.
LAST_RUN_S = 1.0


@pytest.fixture(scope="module", autouse=True)
def run_summary(summary, option):
    summary.update(database=option.database, clients=option.clients)


@pytest.fixture(scope="module")
def data(out, summary, module_failures):
    """OUT/data, made afresh; deleted at the end unless a test failed."""
    folder = out / "data"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    yield folder
    if not module_failures:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def postgres(option, out):
    """With --database postgres, a throwaway cluster under OUT/postgres; None for SQLite."""
    if option.database != "postgres":
        yield None
        return
    with running(out / "postgres") as cluster:
        yield cluster


@pytest.fixture(scope="module")
def server(blindspot, option, out, data, postgres):
    assert option.kills >= 1 and option.clients >= 1, "--kills and --clients are at least 1"
    database = ["--database", postgres.url] if postgres else []
    # --rate-limit 0: the 16 clients share one address.
    restartable = Server(blindspot, out / "server.log", option.model, data=data, arguments=["--rate-limit", "0", *database])
    yield restartable
    restartable.close()


@pytest.fixture(scope="module")
def run(server, option, seed, summary):
    """Kills the ready server --kills times (and now and then while it loads), restarting it each time, while the
    clients file reports; returns once the clients stopped, with the last start ready and running."""
    rng = random.Random(f"{seed}:kills")
    deadline = time.monotonic() + option.time_limit
    stats = Counter(kills=0, kills_while_loading=0, restarts=0)
    stop = threading.Event()
    clients = [catalog.ReportingClient(number, seed, server.port, stop) for number in range(1, option.clients + 1)]

    def ready():
        server.wait_until_ready(min(READY_TIMEOUT_S, deadline - time.monotonic()))

    def kill_and_start():
        server.kill()
        stats["kills"] += 1
        server.start()
        stats["restarts"] += 1

    try:
        server.start()
        ready()
        for client in clients:
            client.start()
        for kill in range(1, option.kills + 1):
            assert time.monotonic() < deadline, f"the time limit ({option.time_limit:.0f} s) passed after {kill - 1} of {option.kills} kills"
            time.sleep(rng.uniform(*UPTIME_S))
            crashed = [client.name for client in clients if not client.is_alive()]
            assert not crashed, f"no client thread stopped early ({', '.join(crashed)}: {[c.crash for c in clients if c.crash]})"
            kill_and_start()
            if rng.random() < LOADING_KILL_CHANCE:
                time.sleep(rng.uniform(*LOADING_KILL_DELAY_S))
                stats["kills_while_loading"] += 0 if server.is_ready() else 1
                kill_and_start()
            ready()
            print(f"kill {kill}/{option.kills}: restarted (start {server.starts}); "
                  f"{sum(len(c.acknowledged) for c in clients)} reports acknowledged so far", flush=True)
        time.sleep(LAST_RUN_S)
    finally:
        stop.set()
        for client in clients:
            if client.ident is not None:  # started
                client.join(timeout=CLIENT_JOIN_TIMEOUT_S)
        errors = sum((client.connection_errors for client in clients), Counter())
        unavailable = sum((client.unavailable for client in clients), Counter())
        summary.update(stats, requests_sent=sum(client.sent for client in clients), connections_refused=sum(client.refused for client in clients),
                       connection_errors=sum(errors.values()), connection_errors_by_kind=dict(errors),
                       status_503=sum(unavailable.values()), status_503_by_code=dict(unavailable))
    acknowledged = [entry for client in clients for entry in client.acknowledged]
    summary["acknowledged"] = len(acknowledged)
    return clients, stats, acknowledged, set().union(*(client.unanswered for client in clients))


def test_clients_stopped(run):
    clients = run[0]
    assert not any(client.is_alive() for client in clients), f"the {len(clients)} clients stopped within {CLIENT_JOIN_TIMEOUT_S} s"


def test_no_client_crashed(run):
    crashes = [f"{client.name}: {client.crash}" for client in run[0] if client.crash]
    assert not crashes, "no client thread crashed" + problems_shown(crashes)


def test_server_was_killed_again_and_again(run, option):
    stats = run[1]
    assert stats["kills"] >= option.kills, f"the server was killed {stats['kills']} times (at least {option.kills}), {stats['kills_while_loading']} of them while loading"


def test_reports_were_acknowledged(run):
    assert run[2], "reports were acknowledged (201)"


def test_every_answer_was_a_new_report_or_503(run):
    unexpected = [line for client in run[0] for line in client.unexpected]
    assert not unexpected, "every answer was 201 (a new report, matching the request) or 503" + problems_shown(unexpected)


def test_no_report_id_was_acknowledged_twice(run):
    """An id handed out again means a lost report."""
    acknowledged = run[2]
    reused = sorted(identifier for identifier, count in Counter(entry[0] for entry in acknowledged).items() if count > 1)
    assert not reused, "no report id was acknowledged twice" + problems_shown(
        f"id {identifier}: {[entry for entry in acknowledged if entry[0] == identifier]}" for identifier in reused)


def file_one_report(server, rng, note):
    body, content_type, sent = catalog.report_form(rng, note)
    answer = post(server.base_url, "/api/v1/blindspots", body, content_type, timeout=REQUEST_TIMEOUT_S)
    return answer, ((answer.json["id"], *sent) if answer.status == 201 else None)


def test_read_only_database_answers_503_then_stores_again(run, server, postgres, seed, summary):
    """Makes the database read-only under the running server (sessions ended so that its pool reconnects), then
    writable again; a report stored then is acknowledged too."""
    if postgres is None:
        pytest.skip("a read-only database is PostgreSQL's default_transaction_read_only: --database postgres")
    rng = random.Random(f"{seed}:read-only")
    postgres.sql(f"ALTER DATABASE {postgres.database} SET default_transaction_read_only = on", database="postgres")
    postgres.end_sessions()
    # The first answers may come from sessions that were just ended (503 database_unavailable); the pool then reconnects.
    answers = []
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and sum(answer.code == "storage_read_only" for answer in answers) < 3:
        answers.append(file_one_report(server, rng, f"read-only database, attempt {len(answers) + 1}")[0])
        if answers[-1].status != 503:
            break
        time.sleep(0.1)
    statuses = Counter(f"{answer.status} {answer.code}" for answer in answers)
    postgres.sql(f"ALTER DATABASE {postgres.database} RESET default_transaction_read_only", database="postgres")
    postgres.end_sessions()
    stored = None
    deadline = time.monotonic() + 15
    while stored is None and time.monotonic() < deadline:
        answer, stored = file_one_report(server, rng, "the database is writable again")
        statuses[f"{answer.status} {answer.code if answer.status != 201 else ''}".strip()] += 1
        if answer.status not in (201, 503):
            break
        time.sleep(0 if stored else 0.2)
    summary["read_only_database_statuses"] = dict(statuses)
    if stored:
        run[2].append(stored)
    assert all(answer.status == 503 and answer.headers.get("retry-after") for answer in answers), \
        f"while the database is read-only every report gets 503 with Retry-After ({dict(statuses)})"
    assert any(answer.code == "storage_read_only" for answer in answers), "the read-only database is named as such (storage_read_only)"
    assert stored, f"once the database is writable again a report is stored (201) within 15 s ({dict(statuses)})"


@pytest.fixture(scope="module")
def served(run, server, summary):
    found, problems, image_problems = catalog.served(server.port, run[2])
    summary["found"] = found
    return found, problems, image_problems


def test_every_acknowledged_report_is_served(run, served):
    assert not served[1], (f"all {len(run[2])} acknowledged reports are served with the sent image's SHA-256, class and note "
                           f"({served[0]} found)" + problems_shown(served[1]))


def test_every_acknowledged_report_image_is_served(served):
    assert not served[2], "every acknowledged report's display image is served as a PNG" + problems_shown(served[2])


@pytest.fixture(scope="module")
def stopped(served, server):
    """The server stopped with SIGTERM: (it stopped in time, its exit status)."""
    return server.terminate()


def test_server_stops_on_sigterm(stopped):
    assert stopped[0], f"the server stopped on SIGTERM within 20 s (exit status {stopped[1]})"


@pytest.fixture(scope="module")
def stored(stopped, data, postgres, run, summary):
    """What the stopped server's catalog holds: (consistency problems, rows as id -> (SHA-256, note, class))."""
    if postgres:
        orphans, rows = catalog.postgres_rows(postgres)
        problems = [f"{orphans} verdicts point to a missing report"] if orphans else []
    else:
        integrity, foreign, rows = catalog.sqlite_rows(data)
        problems = ([f"PRAGMA integrity_check: {'; '.join(integrity)[:500]}"] if integrity != ["ok"] else []) \
            + [f"PRAGMA foreign_key_check: {row}" for row in foreign]
    unacknowledged, _ = catalog.strangers(rows, run[2], run[3])
    summary.update(report_rows=len(rows), committed_but_not_acknowledged=len(unacknowledged), **catalog.leftover_files(data, rows))
    return problems, rows


def test_catalog_is_consistent(stored, option):
    """SQLite: integrity_check is ok and no foreign key is broken; PostgreSQL: no verdict points to a missing report."""
    assert not stored[0], f"the {option.database} catalog is consistent" + problems_shown(stored[0])


def test_every_acknowledged_report_is_a_row_as_sent(stored, run):
    lost = catalog.lost_reports(stored[1], run[2])
    assert not lost, f"every acknowledged report is a row of `report` as it was sent ({len(run[2]) - len(lost)} of {len(run[2])})" + problems_shown(lost)


def test_every_row_has_its_images(stored, data, postgres):
    """SQLite: the files in DATA/images; PostgreSQL: the rows of its image table (nothing of the catalog is in --data)."""
    missing = catalog.postgres_missing_images(postgres, stored[1]) if postgres else catalog.missing_images(data, stored[1])
    assert not missing, f"every row of `report` ({len(stored[1])}) has its original (with the row's SHA-256) and its display PNG" + problems_shown(missing)


def test_rows_never_acknowledged_belong_to_lost_answers(stored, run):
    """Committed but not acknowledged is allowed only for a request whose answer was lost when the server died."""
    unacknowledged, strangers = catalog.strangers(stored[1], run[2], run[3])
    assert not strangers, f"every row that was never acknowledged ({len(unacknowledged)}) belongs to a request whose answer was lost" + problems_shown(strangers)
