# Blindspot's two set-up commands: `make run` and `make test`. Each installs what it needs first.
SHELL := /bin/bash
export BLINDSPOT_SHARED ?= $(abspath ../shared)
BLINDSPOT := .build/release/blindspot
BENCH_VENV := .venv-bench
SCHEMATHESIS_VERSION := 4.32.5
SCHEMATHESIS := $(BENCH_VENV)/schemathesis-$(SCHEMATHESIS_VERSION)

.PHONY: setup setup-test build weights run sample test test-swift test-api test-e2e test-reliability bench

setup:
	@scripts/setup.sh

setup-test:
	@scripts/setup.sh test

build: setup
	swift build -c release --product blindspot

# The published weights the tests and the default run use (inception_v3's host is not reachable from every machine).
weights: build
	$(BLINDSPOT) models fetch efficientnet_lite0 efficientnet_lite1 efficientnet_lite2

# The web demo and API on http://127.0.0.1:8080 (PORT=… to change), with the post's examples from ../shared.
PORT ?= 8080
run: weights
	$(BLINDSPOT) serve --port $(PORT) --examples "$(BLINDSPOT_SHARED)/seed-examples"

# Classify the 100 sample photos and print the accuracy.
sample: weights
	$(BLINDSPOT) classify --summary "$(BLINDSPOT_SHARED)/imagenet-sample"

test: test-swift test-api test-e2e test-reliability

# The PostgreSQL store's tests run against a throwaway cluster on a free local port, stopped whatever the result. Then the
# engine, model and ONNX tests run again with oneDNN capped at AVX2 (ONEDNN_MAX_CPU_ISA), so an AVX-512 machine checks
# both kernel paths (channel blocks of 16 and of 8); on an AVX2 machine the second pass repeats the first.
test-swift: weights setup-test $(BENCH_VENV)/installed
	@set -o pipefail; dir="$(CURDIR)/.build/test-postgres"; \
	trap 'scripts/postgres.sh stop "$$dir" || true' EXIT; trap 'exit 130' INT TERM; \
	port=$$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])') || exit 1; \
	url=$$(scripts/postgres.sh start "$$dir" "$$port" | tail -n 1) || exit 1; \
	echo "test-swift: PostgreSQL at $$url"; \
	export BLINDSPOT_TEST_POSTGRES="$$url"; \
	export BLINDSPOT_PYTHON="$(CURDIR)/$(BENCH_VENV)/bin/python"; \
	export OMP_WAIT_POLICY=passive; \
	swift test -c release --disable-testable-imports && \
	ONEDNN_MAX_CPU_ISA=AVX2 swift test -c release --disable-testable-imports --skip-build --filter 'EngineDNNLTests|ModelsTests|OnnxTests'

# Schemathesis (pinned, in .venv-bench) against a fresh `blindspot serve` with an admin token: generated requests for every
# operation of its /openapi.json, all checks and phases (the stateful one too), a fixed seed, about 3 minutes; passes only
# with no failure, /healthz still 200 and the server neither exited nor logged a Swift runtime failure. Its JUnit report
# goes to .build/test-output/api.
test-api: weights $(SCHEMATHESIS)
	python3 Tests/EndToEnd/api_fuzz.py --blindspot $(BLINDSPOT) --shared "$(BLINDSPOT_SHARED)" --out .build/test-output/api \
		--schemathesis $(BENCH_VENV)/bin/st

# Drives the real pages in headless Chromium against `blindspot serve`: the demo (with the API checked against
# /openapi.json) and the catalog (XSS, moderation, CSRF); screenshots go to .build/test-output/e2e. Then the SIGKILL
# durability test on SQLite and on a throwaway PostgreSQL cluster of its own, and the storage faults (a full and a
# read-only tmpfs; root only, SKIP otherwise).
test-e2e: weights setup-test
	python3 Tests/EndToEnd/demo_e2e.py --blindspot $(BLINDSPOT) --shared "$(BLINDSPOT_SHARED)" --out .build/test-output/e2e
	python3 Tests/EndToEnd/catalog_e2e.py --blindspot $(BLINDSPOT) --shared "$(BLINDSPOT_SHARED)" --out .build/test-output/e2e
	python3 Tests/EndToEnd/report_e2e.py --blindspot $(BLINDSPOT) --shared "$(BLINDSPOT_SHARED)" --out .build/test-output/e2e
	python3 Tests/EndToEnd/durability_test.py --blindspot $(BLINDSPOT) --out .build/test-output/durability
	python3 Tests/EndToEnd/durability_test.py --database postgres --kills 10 --time-limit 120 --blindspot $(BLINDSPOT) --out .build/test-output/durability-postgres
	python3 Tests/EndToEnd/storage_faults_test.py --blindspot $(BLINDSPOT) --out .build/test-output/storage-faults

# Hostile uploads against a real server (each gets its documented 4xx quickly, never a 5xx, within a memory bound),
# 64 clients overloading it for OVERLOAD_SECONDS, and every fuzz target for FUZZ_SECONDS (Tests/Fuzz/README.md).
OVERLOAD_SECONDS ?= 60
export FUZZ_SECONDS ?= 30
test-reliability: weights setup-test
	python3 Tests/Reliability/hostile_inputs.py --blindspot $(BLINDSPOT) --shared "$(BLINDSPOT_SHARED)" --out .build/test-output/reliability
	python3 Tests/Reliability/overload.py --blindspot $(BLINDSPOT) --shared "$(BLINDSPOT_SHARED)" --out .build/test-output/reliability --seconds $(OVERLOAD_SECONDS)
	Tests/Fuzz/fuzz.sh

# Every section of `blindspot bench` (a few minutes), ONNX Runtime running beside it from a local virtual environment
# (.venv-bench, made once; the Swift tests compare ONNX files with ONNX Runtime through it too).
# BENCH_FLAGS=--json prints one JSON document instead of tables.
BENCH_FLAGS ?=
$(BENCH_VENV)/installed:
	python3 -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet onnxruntime numpy
	touch $@

# `make test-api`'s Schemathesis goes into the same environment, behind a stamp named after its version, so that an
# environment made before (or for another version) gets it too.
$(SCHEMATHESIS): $(BENCH_VENV)/installed
	$(BENCH_VENV)/bin/python -m pip install --quiet schemathesis==$(SCHEMATHESIS_VERSION)
	touch $@

bench: weights $(BENCH_VENV)/installed
	$(BLINDSPOT) bench --all --python $(BENCH_VENV)/bin/python $(BENCH_FLAGS)
