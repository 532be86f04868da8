"""What the Python end-to-end, reliability and deployment tests share (one harness for them all): servers, HTTP,
images, browser, PostgreSQL, the catalog's checks, result summaries, the Kubernetes manifests' checks, ImageNet's
conventions (crop, labels, top-1) and the ImageNet-C corruption parity's runs and numbers. Used by
Tests/conftest.py, the test modules and screenshots.py."""
