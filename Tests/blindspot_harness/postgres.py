"""A throwaway PostgreSQL cluster from scripts/postgres.sh (as `make test-swift` starts one), and psql against it."""
import glob
import os
import re
import shutil
import subprocess
from contextlib import contextmanager
from pathlib import Path

from .paths import REPOSITORY
from .server import free_port

SCRIPT = REPOSITORY / "scripts" / "postgres.sh"


class Postgres:
    """A cluster under `directory`: start() creates and starts it (the URL of a fresh database is then `url`), stop()
    stops it whatever happened."""

    def __init__(self, directory):
        self.directory = Path(directory).resolve()
        self.url = None
        candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"), key=lambda path: [int(part) for part in re.findall(r"\d+", path)])
        self.psql = candidates[-1] if candidates else shutil.which("psql")

    @property
    def database(self):
        return self.url.rsplit("/", 1)[1]

    def start(self):
        assert self.psql, "there is a psql (scripts/setup.sh test installs PostgreSQL)"
        result = subprocess.run([str(SCRIPT), "start", str(self.directory), str(free_port())], capture_output=True, text=True, timeout=180)
        assert result.returncode == 0 and result.stdout.strip(), \
            f"scripts/postgres.sh start failed (status {result.returncode}):\n{result.stderr[-3000:]}"
        self.url = result.stdout.strip().splitlines()[-1]

    def stop(self):
        if self.url is not None:
            subprocess.run([str(SCRIPT), "stop", str(self.directory)], timeout=120, check=False)

    def sql(self, statement, database=None):
        """Runs `statement` (in `database`, default the test's) and returns its output."""
        url = self.url if database is None else self.url.rsplit("/", 1)[0] + "/" + database
        result = subprocess.run([self.psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", statement], capture_output=True,
                                text=True, encoding="utf-8", timeout=60, env=dict(os.environ, PGCLIENTENCODING="UTF8"))
        assert result.returncode == 0, f"psql ran {statement!r} ({result.stderr.strip()})"
        return result.stdout

    def end_sessions(self):
        """Ends every session of the test's database, so that the server's pool reconnects (and sees new settings)."""
        self.sql(f"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '{self.database}' "
                 "AND pid <> pg_backend_pid()", database="postgres")


@contextmanager
def running(directory):
    """A started cluster under `directory`, stopped at the end whatever happened."""
    cluster = Postgres(directory)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
