"""pytest options and fixtures of the Python end-to-end and reliability tests: the binary, ../shared, the output
folder, one browser per module and the demo's server shared by the modules that drive the demo."""
import collections
import os
import secrets
import time
from pathlib import Path

import pytest

from blindspot_harness import paths, results, server as servers
from blindspot_harness.browser import Browser


def pytest_addoption(parser):
    group = parser.getgroup("blindspot")
    group.addoption("--blindspot", default=".build/release/blindspot", help="the blindspot binary to run")
    group.addoption("--shared", default=None, help="the shared data folder (default: $BLINDSPOT_SHARED or ../shared beside the repository)")
    group.addoption("--out", default=".build/test-output/pytest", help="where screenshots, summaries and server logs go")
    group.addoption("--model", default="efficientnet_lite0", help="the model the servers load")
    group.addoption("--second-model", default="efficientnet_lite1", help="the demo server's second model, for switching models on the page")
    group.addoption("--base-url", default=None, help="test_demo, test_pages, test_api_contract, test_hostile_inputs: a server already running")
    group.addoption("--database", choices=["sqlite", "postgres"], default="sqlite",
                    help="test_durability: the catalog in DATA/catalog.sqlite or in a throwaway PostgreSQL cluster")
    group.addoption("--kills", type=int, default=20, help="test_durability: SIGKILLs of a ready server (kills while loading come on top)")
    group.addoption("--clients", type=int, default=16, help="test_durability: client threads filing reports")
    group.addoption("--time-limit", type=float, default=240, help="test_durability: seconds the killing and restarting may take")
    group.addoption("--seed", type=int, default=None, help="test_durability, test_storage_faults, test_api_fuzz: the seed (each has its default)")
    group.addoption("--seconds", type=float, default=60, help="test_overload: seconds of load")
    group.addoption("--schemathesis", default=str(paths.REPOSITORY / ".venv-bench" / "bin" / "st"),
                    help="test_api_fuzz: Schemathesis' command (`make test-api` installs it into .venv-bench)")
    group.addoption("--max-examples", type=int, default=25, help="test_api_fuzz: test cases per operation and phase")
    group.addoption("--kubernetes-validate", default=str(paths.REPOSITORY / ".venv-manifests" / "bin" / "kubernetes-validate"),
                    help="test_manifests: the validator's command (`make test-manifests` installs it into .venv-manifests)")
    group.addoption("--rootfs", default=".build/image/rootfs", help="test_image: the root file system scripts/build-rootfs.sh built")
    group.addoption("--corruptions-python", default=str(paths.REPOSITORY / ".venv-corruptions" / "bin" / "python"),
                    help="test_parity: the Python of the reference's environment (`make test-corruptions` makes .venv-corruptions)")


@pytest.fixture(scope="session")
def option(request):
    """The command line's options, by name (option.kills, option.model, …)."""
    return request.config.option


@pytest.fixture(scope="session")
def blindspot(option):
    binary = Path(option.blindspot)
    assert binary.is_file() and os.access(binary, os.X_OK), f"{binary} is an executable (make build, or --blindspot)"
    return binary.resolve()


@pytest.fixture(scope="session")
def shared(option):
    """../shared, which the tests that read photos or the post's examples need: missing, they fail."""
    folder = Path(option.shared) if option.shared else paths.default_shared()
    if not (folder / "imagenet-sample").is_dir() or not (folder / "seed-examples" / "examples.json").is_file():
        pytest.fail(f"{folder} has no imagenet-sample/ or seed-examples/examples.json (set BLINDSPOT_SHARED or --shared)", pytrace=False)
    return folder.resolve()


@pytest.fixture(scope="session")
def out(option):
    folder = Path(option.out).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def browser():
    chromium = Browser()
    yield chromium
    chromium.quit()


@pytest.fixture(scope="session")
def serve(blindspot, shared, out, option):
    """serve(name, arguments=(), environment=None, models=--model): a context manager running `blindspot serve` with
    the post's examples and a fresh --data folder, its log in OUT/server-NAME.log (blindspot_harness.server.serving)."""
    def serving(name, arguments=(), environment=None, models=None):
        return servers.serving(servers.Server(blindspot, out / f"server-{name}.log", models or option.model, examples=shared / "seed-examples",
                                              arguments=arguments, environment=environment))
    return serving


@pytest.fixture(scope="session")
def demo_server(option, serve):
    """One server for test_api_contract, test_demo and test_pages: --model and --second-model, every model ready.
    With --base-url, that server instead."""
    if option.base_url:
        yield servers.RunningServer(option.base_url)
        return
    with serve("demo", models=f"{option.model},{option.second_model}") as server:
        servers.wait_for_every_model(server.base_url)
        yield server


@pytest.fixture(scope="module")
def admin_token():
    """A random admin token, for servers started with BLINDSPOT_ADMIN_TOKEN."""
    return secrets.token_urlsafe(24)


@pytest.fixture(scope="module")
def seed(request, option):
    """--seed, or the module's SEED."""
    return request.module.SEED if option.seed is None else option.seed


@pytest.fixture(scope="module")
def summary(request, out, seed, module_failures):
    """The module's numbers (a dict to fill), written at its end to OUT/NAME, NAME being the module's SUMMARY, with how
    long it took and which tests failed."""
    numbers = {"seed": seed}
    began = time.monotonic()
    yield numbers
    numbers.update(seconds=round(time.monotonic() - began, 1), passed=not module_failures, failures=list(module_failures))
    results.write_summary(out / request.module.SUMMARY, numbers, request.module.SUMMARY.removesuffix(".json").replace("_", " "))


# The failed tests of each module, so that a module's summary can say whether everything passed (module_failures).
FAILURES = collections.defaultdict(list)


@pytest.fixture(scope="module")
def module_failures(request):
    """The node ids of this module's tests that failed so far (a live list)."""
    return FAILURES[request.module.__name__]


def pytest_runtest_logreport(report):
    if report.failed:
        FAILURES[Path(report.fspath).stem].append(report.nodeid)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A failure shows the end of every running server's log, and what it died of if it did."""
    report = yield
    if report.failed:
        for server in list(servers.RUNNING):
            crash = server.crash_report() if server.process else None
            tail = server.output()[-servers.LOG_TAIL_CHARACTERS:]
            report.sections.append((f"server {server.base_url} ({server.log_path})", (f"it {crash}\n" if crash else "") + tail))
    return report


def pytest_terminal_summary(terminalreporter):
    for title, text in results.RECORDED:
        terminalreporter.write_sep("-", title)
        terminalreporter.write_line(text)
