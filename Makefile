# Blindspot's two set-up commands: `make run` and `make test`. Each installs what it needs first.
SHELL := /bin/bash
export BLINDSPOT_SHARED ?= $(abspath ../shared)
BLINDSPOT := .build/release/blindspot
# The Python end-to-end and reliability tests are pytest modules (Tests/EndToEnd, Tests/Reliability) over one harness,
# Tests/blindspot_harness; `scripts/setup.sh test` installs pytest.
PYTEST = python3 -m pytest -q -p no:cacheprovider --blindspot $(BLINDSPOT)
BENCH_VENV := .venv-bench
SCHEMATHESIS_VERSION := 4.32.5
SCHEMATHESIS := $(BENCH_VENV)/schemathesis-$(SCHEMATHESIS_VERSION)
MANIFESTS_VENV := .venv-manifests
KUBERNETES_VALIDATE_VERSION := 1.37.0
KUBERNETES_VALIDATE := $(MANIFESTS_VENV)/kubernetes-validate-$(KUBERNETES_VALIDATE_VERSION)
CORRUPTIONS_VENV := .venv-corruptions

.PHONY: setup setup-test build weights run sample test test-swift test-api test-e2e test-reliability test-image test-manifests test-corruptions bench

setup:
	@scripts/setup.sh

setup-test:
	@scripts/setup.sh test

build: setup
	swift build -c release --product blindspot

# The published weights the tests and the default run use. Inception v3, the post's model, is tried too: where its
# host (download.pytorch.org) cannot be reached, this says so and carries on with EfficientNet-Lite; where it can,
# `make run` serves Inception v3 by default, as the post's demo did.
weights: build
	$(BLINDSPOT) models fetch efficientnet_lite0 efficientnet_lite1 efficientnet_lite2
	@$(BLINDSPOT) models fetch inception_v3 >/dev/null 2>&1 \
		|| echo "weights: inception_v3 (the post's model) could not be fetched here; carrying on without it ('$(BLINDSPOT) models fetch inception_v3' says why)"

# The web demo and API on http://127.0.0.1:8080 (PORT=… to change), with the post's examples from ../shared.
PORT ?= 8080
run: weights
	$(BLINDSPOT) serve --port $(PORT) --examples "$(BLINDSPOT_SHARED)/seed-examples"

# Classify the 100 sample photos and print the accuracy.
sample: weights
	$(BLINDSPOT) classify --summary "$(BLINDSPOT_SHARED)/imagenet-sample"

# Every step runs to its end whatever the others did (scripts/test_steps.py); the run ends with one summary: each step's
# tests passed/failed/skipped (Swift's and pytest's; fuzz.sh counts as one), and `N passed, N failed`.
# Logs: .build/test-output/steps/.
E2E_STEPS := e2e-demo e2e-catalog e2e-report durability-sqlite durability-postgres replicas storage-faults
RELIABILITY_STEPS := reliability-hostile reliability-overload reliability-shutdown reliability-fuzz
.PHONY: $(E2E_STEPS) $(RELIABILITY_STEPS)
# Each step, run alone (`make e2e-demo`), first builds, fetches and installs what it needs (STEP_PREREQUISITES); under
# `make test` that is done once, before the first step.
STEP_PREREQUISITES := weights setup-test
test: $(STEP_PREREQUISITES)
	@python3 scripts/test_steps.py --make-arguments 'STEP_PREREQUISITES=' test-swift test-api $(E2E_STEPS) test-image $(RELIABILITY_STEPS) test-manifests test-corruptions

# The PostgreSQL store's tests run against a throwaway cluster on a free local port, stopped whatever the result. Then the
# engine, model and ONNX tests run again with oneDNN capped at AVX2 (ONEDNN_MAX_CPU_ISA), so an AVX-512 machine checks
# both kernel paths (channel blocks of 16 and of 8). A CPU without AVX-512 already ran the AVX2 path: it says so and skips.
test-swift: $(STEP_PREREQUISITES) $(BENCH_VENV)/installed
	@set -o pipefail; dir="$(CURDIR)/.build/test-postgres"; \
	trap 'scripts/postgres.sh stop "$$dir" || true' EXIT; trap 'exit 130' INT TERM; \
	port=$$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])') || exit 1; \
	url=$$(scripts/postgres.sh start "$$dir" "$$port" | tail -n 1) || exit 1; \
	echo "test-swift: PostgreSQL at $$url"; \
	export BLINDSPOT_TEST_POSTGRES="$$url"; \
	export BLINDSPOT_PYTHON="$(CURDIR)/$(BENCH_VENV)/bin/python"; \
	export OMP_WAIT_POLICY=passive; \
	swift test -c release --disable-testable-imports || exit 1; \
	if ! grep -qw avx512f /proc/cpuinfo; then \
		echo "test-swift: this CPU has no AVX-512, so oneDNN already ran its AVX2 kernels; no second pass capped at AVX2"; exit 0; fi; \
	ONEDNN_MAX_CPU_ISA=AVX2 swift test -c release --disable-testable-imports --skip-build --filter 'EngineDNNLTests|ModelsTests|OnnxTests'

# Schemathesis (pinned, in .venv-bench) against a fresh `blindspot serve` with an admin token: generated requests for every
# operation of its /openapi.json, all checks and phases (the stateful one too), a fixed seed, about 3 minutes; passes only
# with no failure, /healthz still 200 and the server neither exited nor logged a Swift runtime failure. Its log and JUnit
# report go to .build/test-output/api.
test-api: $(STEP_PREREQUISITES) $(SCHEMATHESIS)
	$(PYTEST) Tests/EndToEnd/test_api_fuzz.py --shared "$(BLINDSPOT_SHARED)" --out .build/test-output/api \
		--schemathesis $(BENCH_VENV)/bin/st

# Drives the real pages in headless Chromium against `blindspot serve`: the demo (with the API checked against
# /openapi.json, and issue 16's page checks) and the catalog (XSS, moderation, CSRF), then `blindspot report`'s page;
# screenshots go to .build/test-output/e2e. Then the SIGKILL durability test on SQLite and on a throwaway PostgreSQL
# cluster of its own, and the storage faults (a full and a read-only tmpfs; root only, skipped with the reason otherwise).
# A missing ../shared, Chromium, PostgreSQL or Schemathesis fails the step.
test-e2e: $(E2E_STEPS)
e2e-demo: $(STEP_PREREQUISITES)
	$(PYTEST) Tests/EndToEnd/test_api_contract.py Tests/EndToEnd/test_demo.py Tests/EndToEnd/test_pages.py --shared "$(BLINDSPOT_SHARED)" --out .build/test-output/e2e
e2e-catalog: $(STEP_PREREQUISITES)
	$(PYTEST) Tests/EndToEnd/test_catalog.py --shared "$(BLINDSPOT_SHARED)" --out .build/test-output/e2e
e2e-report: $(STEP_PREREQUISITES)
	$(PYTEST) Tests/EndToEnd/test_report.py Tests/EndToEnd/test_discover_page.py Tests/EndToEnd/test_robustness_card.py --shared "$(BLINDSPOT_SHARED)" --out .build/test-output/e2e
durability-sqlite: $(STEP_PREREQUISITES)
	$(PYTEST) Tests/EndToEnd/test_durability.py --out .build/test-output/durability
durability-postgres: $(STEP_PREREQUISITES)
	$(PYTEST) Tests/EndToEnd/test_durability.py --database postgres --kills 10 --time-limit 120 --out .build/test-output/durability-postgres
replicas: $(STEP_PREREQUISITES)
	$(PYTEST) Tests/EndToEnd/test_replicas.py --out .build/test-output/replicas
storage-faults: $(STEP_PREREQUISITES)
	$(PYTEST) Tests/EndToEnd/test_storage_faults.py --out .build/test-output/storage-faults

# The runtime image's file system (deploy/container/Containerfile), built offline by scripts/build-rootfs.sh around this
# checkout's release binary (Debian's part is kept under .build/image, so only the first run downloads), then run the way
# a container runs it: `blindspot serve` chrooted into it as the image's user with its ENV and CMD, /proc and the weights
# cache mounted in a namespace of its own; it must get ready, classify a photo right, pass the HEALTHCHECK and find every
# library inside the root (ldd). Prints the size and the start-to-ready time. Needs root.
test-image: $(STEP_PREREQUISITES)
	scripts/build-rootfs.sh --build-dir "$(dir $(BLINDSPOT))" .build/image/rootfs
	$(PYTEST) Tests/EndToEnd/test_image.py --shared "$(BLINDSPOT_SHARED)" --rootfs .build/image/rootfs --out .build/test-output/image

# Hostile uploads against a real server (each gets its documented 4xx quickly, never a 5xx, within a memory bound),
# 64 clients of `blindspot load` overloading it for OVERLOAD_SECONDS while /healthz is probed, and every fuzz target
# for FUZZ_SECONDS (Tests/Fuzz/README.md).
OVERLOAD_SECONDS ?= 60
export FUZZ_SECONDS ?= 30
test-reliability: $(RELIABILITY_STEPS)
reliability-hostile: $(STEP_PREREQUISITES)
	$(PYTEST) Tests/Reliability/test_hostile_inputs.py --shared "$(BLINDSPOT_SHARED)" --out .build/test-output/reliability
reliability-overload: $(STEP_PREREQUISITES)
	$(PYTEST) Tests/Reliability/test_overload.py --shared "$(BLINDSPOT_SHARED)" --out .build/test-output/reliability --seconds $(OVERLOAD_SECONDS)
reliability-shutdown: $(STEP_PREREQUISITES)
	$(PYTEST) Tests/Reliability/test_shutdown.py --shared "$(BLINDSPOT_SHARED)" --out .build/test-output/reliability
reliability-fuzz: $(STEP_PREREQUISITES)
	Tests/Fuzz/fuzz.sh

# The Kubernetes manifests of deploy/kubernetes, with no cluster: each validated against Kubernetes 1.31's schemas by
# kubernetes-validate --strict (pinned, in a virtual environment of its own, .venv-manifests), CloudNativePG's Cluster
# (which it has no schema for) against a small schema of ours; every command, flag, probe path, port, thread count,
# Secret and model they name checked against the binary (its --help, a server started briefly) and the other files.
# About 15 seconds once installed.
test-manifests: $(STEP_PREREQUISITES) $(KUBERNETES_VALIDATE)
	$(PYTEST) Tests/Deploy/test_manifests.py --kubernetes-validate $(MANIFESTS_VENV)/bin/kubernetes-validate --out .build/test-output/manifests

$(KUBERNETES_VALIDATE):
	python3 -m venv $(MANIFESTS_VENV)
	$(MANIFESTS_VENV)/bin/python -m pip install --quiet kubernetes-validate==$(KUBERNETES_VALIDATE_VERSION)
	touch $@

# ImageNet-C's 19 corruptions (issue 21) against the reference implementation, imagecorruptions 1.1.2, on the sample
# photos cropped as ImageNet-C made its files (256, centre 224): the 8 deterministic ones within ±1 of it on every pixel
# of 10 photos at all 5 severities; the 11 random ones (Blindspot's own generator) by per-channel mean and variance on
# those 10 photos and by the top-1 accuracy they cost EfficientNet-Lite0 on all 100 (severities 1, 3, 5). The reference
# runs in a Python 3.9 virtual environment of its own with the old NumPy, scikit-image and OpenCV it needs
# (.venv-corruptions, made once by scripts/corruption-reference.sh; its stamp names the pins). The parity table goes to
# .build/test-output/corruptions/corruption-parity.md. About 6.5 CPU-minutes (classifying 6700 images is 2.5 of them):
# some 4 minutes on 2 idle cores, 11 on 2 cores shared with a load of 6-10; reruns into the same OUT reuse the
# reference's images when its script, environment, photos and seed are unchanged.
test-corruptions: $(STEP_PREREQUISITES) $(CORRUPTIONS_VENV)/reference-stamp
	$(PYTEST) Tests/Corruptions/test_parity.py --shared "$(BLINDSPOT_SHARED)" --out .build/test-output/corruptions \
		--corruptions-python $(CORRUPTIONS_VENV)/bin/python

$(CORRUPTIONS_VENV)/reference-stamp: scripts/corruption-reference.sh
	scripts/corruption-reference.sh $(CORRUPTIONS_VENV)

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
