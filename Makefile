# Blindspot's two set-up commands: `make run` and `make test`. Each installs what it needs first.
SHELL := /bin/bash
export BLINDSPOT_SHARED ?= $(abspath ../shared)
BLINDSPOT := .build/release/blindspot

.PHONY: setup build weights run test bench

setup:
	@scripts/setup.sh

build: setup
	swift build -c release --product blindspot

# The published weights the tests and the default run use (inception_v3's host is not reachable from every machine).
weights: build
	$(BLINDSPOT) models fetch efficientnet_lite0 efficientnet_lite1 efficientnet_lite2

run: weights
	$(BLINDSPOT) classify --summary "$(BLINDSPOT_SHARED)/imagenet-sample"

test: weights
	swift test -c release

bench: build
	python3 -c "import onnxruntime" 2>/dev/null || python3 -m pip install --quiet onnxruntime numpy
	$(BLINDSPOT) bench
