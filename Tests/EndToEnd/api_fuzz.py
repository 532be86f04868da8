#!/usr/bin/env python3
"""Schemathesis against `blindspot serve`: requests generated from the server's own /openapi.json for every operation,
with all of Schemathesis' checks, in all its phases (examples, coverage, fuzzing, stateful). Not a test of the pages.

Starts a fresh server (demo_e2e.py's Server, with the post's examples, no rate limit and a random admin token in
BLINDSPOT_ADMIN_TOKEN, which Schemathesis sends as a bearer token), runs `st run` with a fixed seed (going on after an
operation's first failure, so that the report lists every distinct one), and passes only when Schemathesis exits 0
with no failure and no error in its JUnit report, /healthz still answers 200 afterwards, and the server neither exited
nor printed a Swift runtime failure. Schemathesis' output (schemathesis.log) and JUnit report
(junit.xml) go to --out, with the server's log.

    python3 Tests/EndToEnd/api_fuzz.py --blindspot .build/release/blindspot --shared ../shared --out .build/test-output/api

Needs Schemathesis: `make test-api` installs the pinned version into .venv-bench; nothing is installed here.
"""
import secrets
import shlex
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from demo_e2e import CheckFailed, Server, api, check, run_checks, script_arguments, shared_folder_or_skip

REPOSITORY = Path(__file__).resolve().parents[2]
# The response time limit, and the one status an image upload may answer to bytes that are no image (see the file).
CONFIG = Path(__file__).resolve().parent / "schemathesis.toml"
SEED = 20240601
# Test cases per operation in the fuzzing phase (and scenarios in the stateful one): about 3 minutes on 2 cores.
MAX_EXAMPLES = 25
# A probe of a photo takes about 9 s on 2 cores; a later answer is an error.
REQUEST_TIMEOUT_S = 30
# Schemathesis is stopped (and the test fails) beyond this, so that a hanging server cannot hang `make test`.
TIME_LIMIT_S = 900
PHASES = "examples,coverage,fuzzing,stateful"


def parse_arguments():
    parser = script_arguments(__doc__, ".build/test-output/api", "where Schemathesis' output and report and the server log go")
    parser.add_argument("--schemathesis", default=str(REPOSITORY / ".venv-bench" / "bin" / "st"),
                        help="Schemathesis' command (default: .venv-bench/bin/st, which `make test-api` installs)")
    parser.add_argument("--seed", type=int, default=SEED, help=f"Schemathesis' seed (default: {SEED})")
    parser.add_argument("--max-examples", type=int, default=MAX_EXAMPLES,
                        help=f"test cases per operation and phase (default: {MAX_EXAMPLES}, about 3 minutes)")
    return parser.parse_args()


def schemathesis_command(arguments, base_url, token, junit):
    return [str(Path(arguments.schemathesis).absolute()), "--config-file", str(CONFIG), "run", f"{base_url}/openapi.json", "--url", base_url,
            "--checks", "all", "--phases", PHASES, "--seed", str(arguments.seed), "--max-examples", str(arguments.max_examples),
            "--request-timeout", str(REQUEST_TIMEOUT_S), "--continue-on-failure", "--workers", "1", "--generation-database", "none",
            "--header", f"Authorization: Bearer {token}", "--report", "junit", "--report-junit-path", str(junit), "--no-color"]


def run_schemathesis(command, token, out):
    """Runs `command` in `out`, echoing its output and keeping it in out/schemathesis.log; returns its exit status."""
    print("running:", shlex.join(command).replace(token, "$BLINDSPOT_ADMIN_TOKEN"), flush=True)
    with open(out / "schemathesis.log", "w") as log:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=out)
        expired = threading.Event()

        def stop():
            expired.set()
            process.kill()

        timer = threading.Timer(TIME_LIMIT_S, stop)
        timer.start()
        try:
            for line in process.stdout:
                sys.stdout.write(line)
                log.write(line)
            status = process.wait()
        finally:
            timer.cancel()
    if expired.is_set():
        raise CheckFailed(f"Schemathesis did not finish within {TIME_LIMIT_S} s")
    return status


def junit_totals(junit):
    """(test cases, failures, errors) of a JUnit report."""
    root = ElementTree.parse(junit).getroot()
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    return tuple(sum(int(suite.get(name, 0)) for suite in suites) for name in ("tests", "failures", "errors"))


def run(arguments, server, token, out):
    junit = (out / "junit.xml").resolve()
    junit.unlink(missing_ok=True)
    began = time.monotonic()
    status = run_schemathesis(schemathesis_command(arguments, server.base_url, token, junit), token, out.resolve())
    print(f"Schemathesis ran for {time.monotonic() - began:.0f} s (exit status {status})", flush=True)
    health, _ = api(server.base_url, "/healthz")
    check(health == 200, f"/healthz answers {health} after Schemathesis")
    server.check_survived()
    check(junit.is_file(), f"Schemathesis wrote its JUnit report ({junit})")
    tests, failures, errors = junit_totals(junit)
    print(f"Schemathesis: {tests} operations tested, {failures} failed, {errors} errors (report: {junit})", flush=True)
    check(failures == 0 and errors == 0, f"Schemathesis found no failure and no error ({failures} failures, {errors} errors)")
    check(status == 0, f"Schemathesis exited with status {status}")


def main():
    arguments = parse_arguments()
    shared = shared_folder_or_skip(arguments)
    if shared is None:
        return 0
    if not Path(arguments.schemathesis).is_file():
        print(f"FAIL: no Schemathesis at {arguments.schemathesis} (`make test-api` installs it into .venv-bench)", file=sys.stderr)
        return 1
    out = Path(arguments.out)
    token = secrets.token_urlsafe(24)
    server = Server(arguments.blindspot, shared, arguments.model, out, environment={"BLINDSPOT_ADMIN_TOKEN": token},
                    arguments=("--rate-limit", "0"))
    return run_checks(lambda: run(arguments, server, token, out), server)


if __name__ == "__main__":
    sys.exit(main())
