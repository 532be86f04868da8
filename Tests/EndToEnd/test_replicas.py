"""Two `blindspot serve` replicas on one PostgreSQL, each with its own empty --data: a report filed on one is listed,
shown with its image, moderated and deleted through the other; 16 reporters spread over both while one replica is
SIGKILLed and restarted, then restarted the rolling way (SIGTERM), lose nothing acknowledged; the other replica answers
throughout, and no request the restarted replica admitted fails. Numbers in OUT/replicas.json."""
import json
import random
import secrets
import signal
import threading
import time

import pytest

from blindspot_harness import catalog
from blindspot_harness.api import HealthProber, call, post
from blindspot_harness.postgres import running
from blindspot_harness.results import problems_shown
from blindspot_harness.server import Server

SEED = 20261206
SUMMARY = "replicas.json"
CLIENTS = 16
KILLS = 3
UPTIME_S = (1.0, 3.0)
HEALTH_BOUND_MS = 1000
CLIENT_JOIN_TIMEOUT_S = 2 * catalog.REQUEST_TIMEOUT_S + 5


@pytest.fixture(scope="module")
def postgres(out):
    with running(out / "postgres") as cluster:
        yield cluster


@pytest.fixture(scope="module")
def token():
    return secrets.token_urlsafe(24)


@pytest.fixture(scope="module")
def replicas(blindspot, option, out, postgres, token):
    """Replicas a and b: one database, separate fresh --data folders, the same admin token."""
    servers = [Server(blindspot, out / f"server-{name}.log", option.model,
                      arguments=["--database", postgres.url, "--rate-limit", "0", "--replica", name, "--shutdown-grace", "20"],
                      environment={"BLINDSPOT_ADMIN_TOKEN": token}) for name in ("a", "b")]
    try:
        for server in servers:
            server.start()
        for server in servers:
            server.wait_until_ready()
        yield servers
    finally:
        for server in servers:
            server.close()


def files_in(server):
    """Files in a replica's --data besides its logs: nothing of a PostgreSQL catalog may be there."""
    return sorted(str(path.relative_to(server.data)) for path in server.data.rglob("*") if path.is_file())


def test_a_report_filed_on_one_replica_is_served_moderated_and_deleted_through_the_other(replicas, postgres, token, seed, summary):
    a, b = replicas
    admin = {"Authorization": f"Bearer {token}"}
    body, content_type, sent = catalog.report_form(random.Random(f"{seed}:cross"), "filed on replica a")
    filed = post(a.base_url, "/api/v1/blindspots", body, content_type)
    assert filed.status == 201, f"filed on a: {filed.status} {filed.data[:200]!r}"
    identifier = filed.json["id"]

    shown = call(b.base_url, f"/api/v1/blindspots/{identifier}")
    assert shown.status == 200 and catalog.described(shown.json) == sent, f"b shows a's report: {shown.status} {shown.json}"
    image = call(b.base_url, f"/api/v1/blindspots/{identifier}/image")
    assert image.status == 200 and image.data.startswith(catalog.PNG_SIGNATURE), f"b serves its image: {image.status}"
    listed = call(b.base_url, "/api/v1/blindspots?status=pending", headers=admin)
    assert identifier in [report["id"] for report in listed.json["reports"]], "b lists it among the pending reports"

    approved = call(b.base_url, f"/api/v1/blindspots/{identifier}", "PATCH", json.dumps({"status": "approved"}).encode(),
                    {**admin, "Content-Type": "application/json"})
    assert approved.status == 200 and approved.json["status"] == "approved", f"b approves it: {approved.status} {approved.data[:200]!r}"
    assert call(a.base_url, f"/api/v1/blindspots/{identifier}").json["status"] == "approved", "a sees b's moderation"

    deleted = call(b.base_url, f"/api/v1/blindspots/{identifier}", "DELETE", headers=admin)
    assert deleted.status in (200, 204), f"b deletes it: {deleted.status}"
    assert call(a.base_url, f"/api/v1/blindspots/{identifier}").status == 404, "a no longer has it"
    assert call(a.base_url, f"/api/v1/blindspots/{identifier}/image").status == 404
    remaining = postgres.sql(f"COPY (SELECT count(*) FROM image WHERE sha256 = '{sent[0]}') TO STDOUT").strip()
    assert remaining == "0", "its image left PostgreSQL with its last report"
    assert not files_in(a) and not files_in(b), f"no replica keeps anything of the catalog in --data: {files_in(a) + files_in(b)}"
    summary["cross_replica"] = "filed on a; shown, listed, approved and deleted through b"


@pytest.fixture(scope="module")
def run(replicas, seed, summary):
    """16 reporters, 8 on each replica, while a is SIGKILLed and restarted KILLS times, then stopped with SIGTERM and
    started again (a rolling restart); b is probed throughout. Returns what the clients and the prober saw."""
    a, b = replicas
    rng = random.Random(f"{seed}:kills")
    stop = threading.Event()
    clients = [catalog.ReportingClient(number, seed, (a if number <= CLIENTS // 2 else b).port, stop, label="replicas")
               for number in range(1, CLIENTS + 1)]
    on_a, on_b = clients[:CLIENTS // 2], clients[CLIENTS // 2:]
    prober = HealthProber(b.port)
    prober.start()
    rolling = {}
    try:
        for client in clients:
            client.start()
        for kill in range(1, KILLS + 1):
            time.sleep(rng.uniform(*UPTIME_S))
            a.kill()
            a.start()
            a.wait_until_ready()
            print(f"kill {kill}/{KILLS} of a: restarted; {sum(len(c.acknowledged) for c in clients)} reports acknowledged so far", flush=True)
        time.sleep(rng.uniform(*UPTIME_S))
        # The rolling restart: what a's clients had lost before it is set apart from what they lose during it.
        before = set().union(*(client.unanswered for client in on_a))
        a.check_survived()
        a.stopped_on_purpose = True
        signalled = time.monotonic()
        a.process.send_signal(signal.SIGTERM)
        rolling["exit_status"] = a.process.wait(timeout=60)
        rolling["seconds_to_exit"] = round(time.monotonic() - signalled, 2)
        a.check_survived()
        a.start()
        a.wait_until_ready()
        time.sleep(1.0)
        rolling["lost_answers"] = set().union(*(client.unanswered for client in on_a)) - before
    finally:
        stop.set()
        for client in clients:
            if client.ident is not None:
                client.join(timeout=CLIENT_JOIN_TIMEOUT_S)
        health = prober.stop()
    acknowledged = [entry for client in clients for entry in client.acknowledged]
    summary.update(clients=CLIENTS, kills=KILLS, acknowledged=len(acknowledged), acknowledged_by_a=sum(len(c.acknowledged) for c in on_a),
                   acknowledged_by_b=sum(len(c.acknowledged) for c in on_b), answers_lost_to_kills=len(set().union(*(c.unanswered for c in on_a))),
                   health_probes_of_b=len(health), rolling_restart={key: (len(value) if isinstance(value, set) else value) for key, value in rolling.items()})
    return clients, on_a, on_b, acknowledged, health, rolling


def test_clients_filed_reports_on_both_replicas(run):
    clients, on_a, on_b, acknowledged, _, _ = run
    assert not any(client.is_alive() for client in clients), "the clients stopped"
    crashes = [f"{client.name}: {client.crash}" for client in clients if client.crash]
    assert not crashes, "no client crashed" + problems_shown(crashes)
    assert all(client.acknowledged for client in on_a + on_b), "every client had reports acknowledged, on a and on b"


def test_every_answer_was_a_report_or_503(run):
    unexpected = [line for client in run[0] for line in client.unexpected]
    assert not unexpected, "every answer was 201 (matching the request) or 503" + problems_shown(unexpected)


def test_the_other_replica_answered_throughout(run):
    clients, _, on_b, _, health, _ = run
    failed = [sample for sample in health if sample[1] != 200 or sample[0] > HEALTH_BOUND_MS]
    assert health and not failed, f"b's /healthz answered 200 within {HEALTH_BOUND_MS} ms every time ({len(health)} probes)" + problems_shown(failed)
    lost = [f"{client.name}: {len(client.unanswered)} answers lost, {dict(client.connection_errors)}" for client in on_b
            if client.unanswered or client.connection_errors]
    assert not lost, "b's clients never lost a connection or an answer while a was killed" + problems_shown(lost)


def test_the_rolling_restart_exited_zero(run):
    assert run[5]["exit_status"] == 0, f"a exited {run[5]['exit_status']} on SIGTERM"


@pytest.fixture(scope="module")
def stored(run, postgres):
    orphans, rows = catalog.postgres_rows(postgres)
    return orphans, rows


def test_nothing_acknowledged_is_lost(run, stored, replicas, summary):
    acknowledged = run[3]
    lost = catalog.lost_reports(stored[1], acknowledged)
    assert not lost, f"every acknowledged report is a row as sent ({len(acknowledged) - len(lost)} of {len(acknowledged)})" + problems_shown(lost)
    missing = []
    for server in replicas:
        found, problems, image_problems = catalog.served(server.port, acknowledged)
        summary[f"found_through_{server.arguments[server.arguments.index('--replica') + 1]}"] = found
        missing += problems + image_problems
    assert not missing, "every acknowledged report and its image is served by both replicas" + problems_shown(missing)


def test_every_report_has_its_image_in_postgresql(stored, postgres):
    missing = catalog.postgres_missing_images(postgres, stored[1])
    assert stored[0] == 0 and not missing, "every report's image is in PostgreSQL, whole" + problems_shown(missing)


def test_no_request_admitted_during_the_rolling_restart_failed(run, stored):
    """A request whose answer a client lost while a stopped gracefully must not have been stored: the server finishes
    what it admitted, so a lost answer can only be a request it never took."""
    lost = run[5]["lost_answers"]
    committed = {digest for digest, _, _ in stored[1].values()}
    failed = sorted(lost & committed)
    assert not failed, f"no admitted request failed during the rolling restart ({len(lost)} answers lost, all of requests never admitted)" \
        + problems_shown(failed)
