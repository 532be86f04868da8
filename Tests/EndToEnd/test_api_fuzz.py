"""Schemathesis (pinned, in .venv-bench) against a fresh `blindspot serve` with an admin token: requests generated from
its /openapi.json for every operation, all checks and phases, a fixed seed. Its log and JUnit report go to --out."""
import shlex
import subprocess
import threading
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from blindspot_harness.api import call
from blindspot_harness.results import record

# The response time limit, and the one status an image upload may answer to bytes that are no image (see the file).
CONFIG = Path(__file__).resolve().parent / "schemathesis.toml"
SEED = 20240601
# A probe of a photo takes about 9 s on 2 cores; a later answer is an error.
REQUEST_TIMEOUT_S = 30
# Schemathesis is stopped (and the test fails) beyond this, so that a hanging server cannot hang `make test`.
TIME_LIMIT_S = 900
PHASES = "examples,coverage,fuzzing,stateful"


@pytest.fixture(scope="module")
def server(serve, admin_token):
    # No rate limit, and the admin token, which Schemathesis sends as a bearer token.
    with serve("api-fuzz", ["--rate-limit", "0"], {"BLINDSPOT_ADMIN_TOKEN": admin_token}) as server:
        yield server


@pytest.fixture(scope="module")
def schemathesis(server, option, out, admin_token, seed):
    """Runs `st run` in OUT (going on after an operation's first failure, so that the report lists every distinct one),
    keeping its output in OUT/schemathesis.log: (exit status, the JUnit report's path)."""
    command = Path(option.schemathesis).absolute()
    assert command.is_file(), f"Schemathesis is at {command} (`make test-api` installs it into .venv-bench)"
    junit = out / "junit.xml"
    junit.unlink(missing_ok=True)
    arguments = [str(command), "--config-file", str(CONFIG), "run", f"{server.base_url}/openapi.json", "--url", server.base_url,
                 "--checks", "all", "--phases", PHASES, "--seed", str(seed), "--max-examples", str(option.max_examples),
                 "--request-timeout", str(REQUEST_TIMEOUT_S), "--continue-on-failure", "--workers", "1", "--generation-database", "none",
                 "--header", f"Authorization: Bearer {admin_token}", "--report", "junit", "--report-junit-path", str(junit), "--no-color"]
    with open(out / "schemathesis.log", "w") as log:
        log.write("running: " + shlex.join(arguments).replace(admin_token, "$BLINDSPOT_ADMIN_TOKEN") + "\n")
        log.flush()
        process = subprocess.Popen(arguments, stdout=log, stderr=subprocess.STDOUT, cwd=out)
        expired = threading.Event()
        timer = threading.Timer(TIME_LIMIT_S, lambda: (expired.set(), process.kill()))
        timer.start()
        try:
            status = process.wait()
        finally:
            timer.cancel()
    assert not expired.is_set(), f"Schemathesis finished within {TIME_LIMIT_S} s (its output: {out / 'schemathesis.log'})"
    return status, junit


@pytest.fixture(scope="module")
def totals(schemathesis, out):
    """(test cases, failures, errors) of the JUnit report."""
    junit = schemathesis[1]
    assert junit.is_file(), f"Schemathesis wrote its JUnit report ({junit})"
    root = ElementTree.parse(junit).getroot()
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    tests, failures, errors = (sum(int(suite.get(name, 0)) for suite in suites) for name in ("tests", "failures", "errors"))
    last = [line for line in (out / "schemathesis.log").read_text().splitlines() if line.strip()][-1:]
    record("Schemathesis", f"{tests} operations tested, {failures} failed, {errors} errors (report: {junit}; exit status {schemathesis[0]})\n"
           + "".join(last))
    return tests, failures, errors


def test_server_is_healthy_after_schemathesis(server, schemathesis):
    status = call(server.base_url, "/healthz").status
    assert status == 200, f"/healthz answers {status} after Schemathesis"
    server.check_survived()


def test_schemathesis_found_no_failure_and_no_error(totals, out):
    tests, failures, errors = totals
    assert tests > 0 and failures == 0 and errors == 0, \
        f"Schemathesis tested operations and found no failure and no error ({tests} tested, {failures} failures, {errors} errors; {out / 'schemathesis.log'})"


def test_schemathesis_exited_0(schemathesis, out):
    assert schemathesis[0] == 0, f"Schemathesis exited with status {schemathesis[0]} (its output: {out / 'schemathesis.log'})"
