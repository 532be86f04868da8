"""`blindspot serve` under test: started on a free port of 127.0.0.1 with its log, restarted, SIGKILLed or stopped, and
checked for crashes (an exit of its own, a Swift runtime failure in its output)."""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from .api import call

HOST = "127.0.0.1"
READY_TIMEOUT_S = 120
STOP_TIMEOUT_S = 20
# What the Swift runtime, its backtracer or the kernel's default handlers print when a process traps or crashes: none
# may appear in a server's output, whatever a request did.
CRASH_PATTERNS = ("Fatal error:", "Precondition failed", "Assertion failed", "*** Signal", "Current stack trace:",
                  "💣 Program crashed", "Thread 0 crashed", "Received signal", "Illegal instruction", "Segmentation fault")
LOG_TAIL_CHARACTERS = 4000
# The servers started and not yet closed, so that a failed test can show their logs (Tests/conftest.py).
RUNNING = set()


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


class Server:
    """`blindspot serve --models MODELS` on a free port with a --data folder (a fresh one deleted by close() unless
    `data` is given), the post's examples from `examples` (none by default) and more `arguments`; `environment` adds
    variables. It can be started again on the same port and data; every start's output is appended to `log_path`."""

    def __init__(self, binary, log_path, models, data=None, examples=None, arguments=(), environment=None):
        self.binary, self.models, self.examples = str(binary), models, examples
        self.arguments, self.environment = list(arguments), dict(environment or {})
        self.port = free_port()
        self.base_url = f"http://{HOST}:{self.port}"
        self.own_data = data is None
        self.data = Path(tempfile.mkdtemp(prefix="blindspot-test-data-")) if data is None else Path(data)
        self.log_path = Path(log_path)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log = open(self.log_path, "wb")
        self.process = None
        self.stopped_on_purpose = False  # by kill() or terminate(), which check the server themselves
        self.starts = 0
        self.start_offset = 0

    def command(self):
        return [self.binary, "serve", "--host", HOST, "--port", str(self.port), "--data", str(self.data),
                "--models", self.models, "--examples", str(self.examples or "/nonexistent"), *self.arguments]

    def start(self):
        self.starts += 1
        self.log.write(f"\n[test harness] start {self.starts}: {' '.join(self.command())}\n".encode())
        self.log.flush()
        self.start_offset = self.log.tell()
        self.stopped_on_purpose = False
        self.process = subprocess.Popen(self.command(), stdout=self.log, stderr=subprocess.STDOUT,
                                        env={**os.environ, **self.environment})
        RUNNING.add(self)

    def output(self):
        """Everything every start printed."""
        self.log.flush()
        return self.log_path.read_text(errors="replace")

    def current_output(self):
        """What the running (or last) start printed."""
        self.log.flush()
        with open(self.log_path, "rb") as log:
            log.seek(self.start_offset)
            return log.read().decode(errors="replace")

    def is_ready(self):
        try:
            return call(self.base_url, "/readyz", timeout=2).status == 200
        except OSError:
            return False

    def wait_until_ready(self, timeout=READY_TIMEOUT_S):
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                self.check_survived()  # fails: it exited by itself before it was ready
            if self.is_ready():
                return
            time.sleep(0.05)
        raise AssertionError(f"/readyz of start {self.starts} of the server did not answer 200 within {timeout:.0f} s; "
                             f"its output:\n{self.current_output()[-LOG_TAIL_CHARACTERS:]}")

    def crash_report(self):
        """Why the current start did not survive, or None: it is no longer running (unless the test stopped it on
        purpose), or its output holds a Swift runtime failure or a crash report."""
        problems = []
        if not self.stopped_on_purpose and self.process.poll() is not None:
            problems.append(f"exited by itself with status {self.process.returncode}")
        found = [pattern for pattern in CRASH_PATTERNS if pattern in self.current_output()]
        if found:
            problems.append("its output holds " + ", ".join(repr(pattern) for pattern in found))
        return " and ".join(problems) or None

    def check_survived(self):
        """Fails, naming what crash_report found and showing the end of the output, unless it found nothing."""
        problem = self.crash_report()
        assert not problem, (f"start {self.starts} of the server (pid {self.process.pid}) {problem}; the end of its output:\n"
                             f"{self.current_output()[-LOG_TAIL_CHARACTERS:]}")

    def kill(self):
        """SIGKILL; fails if the server had already exited by itself, or printed a Swift runtime failure."""
        self.check_survived()
        self.stopped_on_purpose = True
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=STOP_TIMEOUT_S)
        self.check_survived()

    def terminate(self):
        """SIGTERM and wait; (exited in time, exit status), killing it if it does not stop. Fails if the server had
        exited by itself, or printed a Swift runtime failure before or while stopping."""
        self.check_survived()
        self.stopped_on_purpose = True
        self.process.terminate()
        try:
            stopped, status = True, self.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            stopped, status = False, self.process.wait()
        self.check_survived()
        return stopped, status

    def close(self):
        """Stops whatever still runs (SIGTERM, then SIGKILL) and deletes a data folder made here."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        RUNNING.discard(self)
        if self.own_data:
            shutil.rmtree(self.data, ignore_errors=True)


class RunningServer:
    """A server that was already running (--base-url): nothing to start, stop or watch."""

    process = None

    def __init__(self, base_url):
        self.base_url = base_url.rstrip("/")
        self.port = int(self.base_url.rsplit(":", 1)[1])

    def check_survived(self):
        pass


@contextmanager
def serving(server, ready_timeout=READY_TIMEOUT_S):
    """Starts `server` and waits until it is ready; at the end checks that it survived, and closes it whatever happened."""
    try:
        server.start()
        server.wait_until_ready(ready_timeout)
        yield server
        server.check_survived()
    finally:
        server.close()


def wait_for_every_model(base_url, timeout=READY_TIMEOUT_S):
    """Waits until every model the server offers is ready (so that its default model no longer changes); their names."""
    deadline = time.monotonic() + timeout
    states = None
    while time.monotonic() < deadline:
        states = {entry["name"]: entry["state"] for entry in (call(base_url, "/readyz").json or {}).get("models", [])}
        if states and all(state == "ready" for state in states.values()):
            return list(states)
        time.sleep(0.5)
    raise AssertionError(f"not every model was ready within {timeout} s ({states})")
