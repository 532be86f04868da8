# Blindspot's two set-up commands: `make run` and `make test`. Each installs what it needs first.
SHELL := /bin/bash
export BLINDSPOT_SHARED ?= $(abspath ../shared)
BLINDSPOT := .build/release/blindspot

.PHONY: setup setup-test build weights run sample test test-swift test-e2e bench

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

test: test-swift test-e2e

test-swift: weights
	swift test -c release

# Drives the real page in headless Chromium against `blindspot serve`; screenshots go to .build/test-output/e2e.
test-e2e: weights setup-test
	python3 Tests/EndToEnd/demo_e2e.py --blindspot $(BLINDSPOT) --shared "$(BLINDSPOT_SHARED)" --out .build/test-output/e2e

bench: build
	python3 -c "import onnxruntime" 2>/dev/null || python3 -m pip install --quiet onnxruntime numpy
	$(BLINDSPOT) bench
