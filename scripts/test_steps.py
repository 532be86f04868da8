#!/usr/bin/env python3
"""Runs `make test`'s steps (Makefile targets) one after another, each to its end, logging each to .build/test-output/steps/;
counts each step's tests (swift-testing's lines, pytest's last line; any other step is one result) and ends with one
summary and the standard `N passed, N failed` line, exiting 1 when anything failed."""
import argparse
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

# "✔ Test name() passed after 0.3 seconds.", "✘ Test name(a:) with 9 test cases failed after …", "➜ Test name() skipped: …"
SWIFT_TEST = re.compile(r"^\S+ Test (?P<name>\S.*?) (?:with \d+ test cases? )?(?:(?P<outcome>passed|failed) after \d|(?P<skip>skipped)(?::|$))")
# pytest's last line: "12 passed, 1 skipped in 9.31s", "1 failed, 3 passed, 1 error in 85.01s (0:01:25)".
PYTEST_SUMMARY = re.compile(r"^=*\s*(?P<counts>\d+ [a-z]+(?:, \d+ [a-z]+)*) in [\d.]+s(?: \([\d:]+\))?\s*=*$")


def run(step: str, logs: Path, arguments: list[str]) -> tuple[int, float, list[str]]:
    """Runs `make STEP`, echoing and logging its output; returns its exit status, seconds and lines."""
    start = time.monotonic()
    lines: list[str] = []
    with (logs / f"{step}.log").open("w", encoding="utf-8") as log:
        process = subprocess.Popen(["make", "--no-print-directory", *arguments, step], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   text=True, errors="replace", bufsize=1)
        assert process.stdout is not None
        for line in process.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            log.write(line)
            lines.append(line.rstrip("\n"))
        status = process.wait()
    return status, time.monotonic() - start, lines


def step_counts(lines: list[str]) -> dict[str, int]:
    """Passed, failed and skipped tests of swift-testing's lines, or of pytest's last summary line."""
    counts = {"passed": 0, "failed": 0, "skipped": 0}
    for line in lines:
        match = SWIFT_TEST.match(line)
        if match and not match["name"].startswith("run ") and " recorded an issue" not in line:
            counts[match["outcome"] or "skipped"] += 1
    for line in reversed(lines):
        match = PYTEST_SUMMARY.match(line.strip())
        if match:
            for number, outcome in (part.split(" ", 1) for part in match["counts"].split(", ")):
                kind = {"error": "failed", "errors": "failed"}.get(outcome, outcome)
                if kind in counts:
                    counts[kind] += int(number)
            break
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--make-arguments", default="", help="variables for every step's make, e.g. 'STEP_PREREQUISITES='")
    parser.add_argument("steps", nargs="+", help="Makefile targets, run in this order")
    options = parser.parse_args()
    steps, arguments = options.steps, shlex.split(options.make_arguments)
    logs = Path(".build/test-output/steps")
    logs.mkdir(parents=True, exist_ok=True)
    rows = []
    passed = failed = 0
    for step in steps:
        print(f"\n=== {step} ===", flush=True)
        status, seconds, lines = run(step, logs, arguments)
        counts = step_counts(lines)
        tests = sum(counts.values())
        if tests:
            # A step that exits non-zero with no failed test (a build error, a crash) is one failure more.
            broken = status != 0 and counts["failed"] == 0
            passed += counts["passed"]
            failed += counts["failed"] + (1 if broken else 0)
            detail = f"{counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped" + (" (exit status %d)" % status if broken else "")
        else:
            passed += status == 0
            failed += status != 0
            detail = "passed" if status == 0 else f"FAILED (exit status {status})"
        rows.append((step, detail, seconds))
    print("\n=== summary ===")
    width = max(len(step) for step, _, _ in rows)
    for step, detail, seconds in rows:
        print(f"{step.ljust(width)}  {detail}  ({seconds / 60:.1f} min)")
    print(f"logs: {logs}{os.sep}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
