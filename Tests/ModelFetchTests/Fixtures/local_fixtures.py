"""Loopback fixtures for ModelFetchTests: an HTTP server with misbehaving routes, and a wheel published into a PEP 503 index.
Test scaffolding only; nothing here ships.

serve ROOT        serves ROOT on 127.0.0.1 at a free port, printed as the first line of stdout;
                  /truncated/PATH announces PATH's full length but sends 100 KB and closes; /stalled/PATH does the same
                  but keeps the connection open, silent, for a minute; /redirect/PATH answers 302 to /PATH.
                  Exits when its stdin closes (the test stopped it or died) or after ten minutes whatever happens.
publish ROOT PACKAGE VERSION [MEMBER SOURCE]
                  writes ROOT/packages/NAME-VERSION-py2.py3-none-any.whl (METADATA, WHEEL, RECORD, and MEMBER holding
                  SOURCE's bytes when given) and ROOT/simple/PACKAGE/index.html linking to it.
"""
import base64
import functools
import hashlib
import http.server
import os
import re
import sys
import threading
import time
import zipfile

PARTIAL_BYTES = 100 * 1024
LIFETIME_SECONDS = 600


class Handler(http.server.SimpleHTTPRequestHandler):
    def do_GET(self):
        if self.path.startswith("/truncated/"):
            self.send_partially(self.path[len("/truncated"):], silence_seconds=0)
        elif self.path.startswith("/stalled/"):
            self.send_partially(self.path[len("/stalled"):], silence_seconds=60)
        elif self.path.startswith("/redirect/"):
            self.send_response(302)
            self.send_header("Location", self.path[len("/redirect"):])
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            super().do_GET()

    def send_partially(self, path, silence_seconds):
        local = self.translate_path(path)
        if not os.path.isfile(local):
            self.send_error(404)
            return
        with open(local, "rb") as source:
            data = source.read()
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data[:PARTIAL_BYTES])
        self.wfile.flush()
        time.sleep(silence_seconds)
        self.close_connection = True

    def log_message(self, format, *args):
        pass


class QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # clients that hang up early (the point of some tests) are not errors here


def serve(root):
    server = QuietServer(("127.0.0.1", 0), functools.partial(Handler, directory=root))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    watchdog = threading.Timer(LIFETIME_SECONDS, lambda: os._exit(2))
    watchdog.daemon = True
    watchdog.start()
    print(server.server_address[1], flush=True)
    sys.stdin.read()
    os._exit(0)


def record_hash(data):
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def publish(root, package, version, member=None, source=None):
    distribution = re.sub(r"[-_.]+", "_", package).lower()
    project = re.sub(r"[-_.]+", "-", package).lower()
    wheel_name = f"{distribution}-{version}-py2.py3-none-any.whl"
    dist_info = f"{distribution}-{version}.dist-info"
    files = {}
    if member is not None:
        with open(source, "rb") as handle:
            files[member] = handle.read()
    files[f"{dist_info}/METADATA"] = f"Metadata-Version: 2.1\nName: {package}\nVersion: {version}\n".encode()
    files[f"{dist_info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: local_fixtures\nRoot-Is-Purelib: true\nTag: py2-none-any\nTag: py3-none-any\n"
    record_path = f"{dist_info}/RECORD"
    record = "".join(f"{path},{record_hash(data)},{len(data)}\n" for path, data in files.items()) + f"{record_path},,\n"
    files[record_path] = record.encode()

    packages = os.path.join(root, "packages")
    os.makedirs(packages, exist_ok=True)
    wheel_path = os.path.join(packages, wheel_name)
    with zipfile.ZipFile(wheel_path, "w", zipfile.ZIP_DEFLATED) as wheel:
        for path, data in files.items():
            wheel.writestr(path, data)
    with open(wheel_path, "rb") as handle:
        wheel_digest = hashlib.sha256(handle.read()).hexdigest()

    index = os.path.join(root, "simple", project)
    os.makedirs(index, exist_ok=True)
    with open(os.path.join(index, "index.html"), "w") as page:
        page.write(f'<!DOCTYPE html>\n<html><body><a href="../../packages/{wheel_name}#sha256={wheel_digest}">{wheel_name}</a></body></html>\n')
    print(wheel_path, flush=True)


if __name__ == "__main__":
    command, arguments = sys.argv[1], sys.argv[2:]
    if command == "serve":
        serve(*arguments)
    elif command == "publish":
        publish(*arguments)
    else:
        sys.exit(f"unknown command {command}")
