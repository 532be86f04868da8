"""`make test-manifests`: the Kubernetes manifests of deploy/kubernetes, validated offline against Kubernetes 1.31's
schemas (kubernetes-validate --strict; CloudNativePG's Cluster, which it has no schema for, against a small schema of
our own) and checked against the binary they run and against each other (blindspot_harness.manifests). Each check is
also shown to catch a deliberate mistake. Nothing here needs a cluster."""
import os
from pathlib import Path

import pytest

from blindspot_harness import manifests, results
from blindspot_harness.api import call
from blindspot_harness.results import problems_shown
from blindspot_harness.server import Server, serving

FILES = sorted(manifests.FOLDER.glob("*.yaml"))
# A path no probe may use: the route check must report it.
NOT_A_ROUTE = "/ready"
VALIDATOR_OUTPUT = []


@pytest.fixture(scope="module")
def documents():
    found = manifests.documents()
    assert found, f"{manifests.FOLDER} holds manifests"
    return found


@pytest.fixture(scope="module")
def help(blindspot):
    return manifests.Help(blindspot)


@pytest.fixture(scope="module")
def validator(option):
    executable = Path(option.kubernetes_validate)
    assert executable.is_file() and os.access(executable, os.X_OK), \
        f"{executable} is kubernetes-validate (`make test-manifests` installs it, or pass --kubernetes-validate)"
    yield executable
    results.record(f"kubernetes-validate --strict -k {manifests.KUBERNETES_VERSION}", "\n".join(VALIDATOR_OUTPUT) +
                   f"\n(it has no schema for {manifests.CLOUDNATIVEPG_API}'s Cluster: test_postgres_cluster_matches_its_schema checks it)")


@pytest.mark.parametrize("file", FILES, ids=[file.name for file in FILES])
def test_manifest_validates_against_kubernetes(validator, file):
    status, output = manifests.kubernetes_validate(validator, file)
    VALIDATOR_OUTPUT.append(output)
    assert status == 0, output
    for document in manifests.documents_of(file):
        if document.body.get("apiVersion") == manifests.CLOUDNATIVEPG_API:
            # Said aloud rather than passed in silence: test_postgres_cluster_matches_its_schema checks this one.
            assert f"Couldn't find schema for kind {document.kind}" in output, output
        else:
            assert f"passed for resource {document.kind.lower()}/{document.name}" in output, output


def test_postgres_cluster_matches_its_schema(documents):
    assert any(document.body.get("apiVersion") == manifests.CLOUDNATIVEPG_API for document in documents)
    problems = manifests.cluster_problems(documents)
    assert not problems, problems_shown(problems)


def test_every_file_says_what_it_is_and_what_to_change():
    problems = manifests.header_problems()
    assert not problems, problems_shown(problems)


def test_every_command_and_flag_exists_in_the_binary(documents, help):
    """`--shutdown-grace` is reported here until the binary under test has it (issue 20's graceful shutdown)."""
    problems = manifests.command_problems(documents, help)
    assert not problems, problems_shown(problems)


def test_probe_paths_are_routes_of_the_server(documents, blindspot, out, option):
    used = manifests.probe_paths(documents)
    assert {"/readyz", "/healthz"} <= set(used), used
    server = Server(blindspot, out / "server-manifests.log", option.model)
    with serving(server):
        documented = set(call(server.base_url, "/openapi.json").json["paths"])

        def status_of(path):
            return call(server.base_url, path).status

        problems = manifests.route_problems(used, documented, status_of)
        assert not problems, problems_shown(problems)
        # The same check on a path that is no route fails.
        mistaken = manifests.route_problems({NOT_A_ROUTE: ["a deliberately wrong probe"]}, documented, status_of)
        assert any(NOT_A_ROUTE in problem and "answered GET with 404" in problem for problem in mistaken), mistaken


def test_ports_agree(documents):
    problems = manifests.port_problems(documents) + manifests.selector_problems(documents)
    assert not problems, problems_shown(problems)


def test_threads_equal_the_cpu_limit(documents, help):
    problems = manifests.thread_problems(documents, help)
    assert not problems, problems_shown(problems)


def test_every_secret_read_is_defined(documents):
    problems = manifests.secret_problems(documents)
    assert not problems, problems_shown(problems)


def test_termination_grace_outlasts_the_servers(documents):
    problems = manifests.shutdown_problems(documents)
    assert not problems, problems_shown(problems)


def test_every_model_run_is_fetched_into_the_model_cache(documents, help):
    problems = manifests.model_problems(documents, help)
    assert not problems, problems_shown(problems)


def server_container(body):
    return body["spec"]["template"]["spec"]["containers"][0]


def environment_value(body, name, value):
    next(entry for entry in server_container(body)["env"] if entry["name"] == name)["value"] = value


# (what is wrong, the kind of the document edited, the edit, the check (documents, help), what its report must say)
MISTAKES = [
    ("unknown flag", "Deployment", lambda body: server_container(body)["args"].append("--no-such-flag=1"),
     lambda docs, help: manifests.command_problems(docs, help), "has no --no-such-flag"),
    ("unknown subcommand", "Job", lambda body: body["spec"]["template"]["spec"]["initContainers"][0]["args"].__setitem__(1, "fetc"),
     lambda docs, help: manifests.command_problems(docs, help), "names no subcommand"),
    ("container port not --port", "Deployment", lambda body: server_container(body)["ports"][0].__setitem__("containerPort", 8081),
     lambda docs, help: manifests.port_problems(docs), "no named container port is serve's --port 8080"),
    ("service selects nothing", "Service", lambda body: body["spec"]["selector"].__setitem__("app.kubernetes.io/component", "web"),
     lambda docs, help: manifests.selector_problems(docs), "matches no Deployment's pods"),
    ("OMP_NUM_THREADS not the CPU limit", "Deployment", lambda body: environment_value(body, "OMP_NUM_THREADS", "4"),
     lambda docs, help: manifests.thread_problems(docs, help), "OMP_NUM_THREADS is 4, not the CPU limit 2"),
    ("secret nobody defines", "Deployment",
     lambda body: server_container(body)["env"][0]["valueFrom"]["secretKeyRef"].__setitem__("name", "blindspot-database"),
     lambda docs, help: manifests.secret_problems(docs), "reads the Secret blindspot-database, which no file defines"),
    ("grace period too short", "Deployment", lambda body: body["spec"]["template"]["spec"].__setitem__("terminationGracePeriodSeconds", 20),
     lambda docs, help: manifests.shutdown_problems(docs), "does not outlast"),
    ("model not fetched", "Deployment",
     lambda body: server_container(body)["args"].__setitem__(server_container(body)["args"].index("--models=inception_v3,efficientnet_lite0"),
                                                            "--models=inception_v3,resnet50"),
     lambda docs, help: manifests.model_problems(docs, help), "runs resnet50, which no init container fetches"),
    ("cluster field misspelt", "Cluster", lambda body: body["spec"].__setitem__("instance", 2),
     lambda docs, help: manifests.cluster_problems(docs), "'instance' was unexpected"),
]


@pytest.mark.parametrize("mistake, kind, change, check, expected", MISTAKES, ids=[mistake[0] for mistake in MISTAKES])
def test_checks_catch_a_deliberate_mistake(documents, help, mistake, kind, change, check, expected):
    assert not check(documents, help), "the check passes on the manifests as they are"
    problems = check(manifests.edited(documents, kind, change), help)
    assert any(expected in problem for problem in problems), f"the check did not report the {mistake}: {problems}"
