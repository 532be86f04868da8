"""What the Python end-to-end and reliability tests share (one harness for them all): servers, HTTP, images, browser,
PostgreSQL, the catalog's checks and result summaries. Used by Tests/conftest.py, the test modules and screenshots.py."""
