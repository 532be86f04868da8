"""What the Python end-to-end, reliability and deployment tests share (one harness for them all): servers, HTTP,
images, browser, PostgreSQL, the catalog's checks, result summaries and the Kubernetes manifests' checks. Used by
Tests/conftest.py, the test modules and screenshots.py."""
