"""The Kubernetes manifests of deploy/kubernetes, read and checked against the binary they run and against each other
(Tests/Deploy/test_manifests.py). Each check returns its problems in plain words, one a string; none means it passed.
Not a Kubernetes client: nothing here talks to a cluster."""
import copy
import re
import shlex
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import jsonschema
import yaml

from . import paths

FOLDER = paths.REPOSITORY / "deploy" / "kubernetes"
KUBERNETES_VERSION = "1.31.0"
# kubernetes-validate knows Kubernetes' own kinds only; these are checked by CLUSTER_SCHEMA below instead.
CLOUDNATIVEPG_API = "postgresql.cnpg.io/v1"
# The Secret CloudNativePG's operator creates for a Cluster named NAME: NAME-app, with these keys
# (https://cloudnative-pg.io/documentation/current/applications/#secrets).
CLOUDNATIVEPG_APP_SECRET_KEYS = {"username", "password", "host", "port", "dbname", "pgpass", "uri", "jdbc-uri"}
# Shell words that end a command or group one; `$( … )` stays part of the command around it.
SHELL_PUNCTUATION = {"$", "(", ")", "&&", "||", ";", "|", "&"}


@dataclass
class Document:
    file: Path
    body: dict

    @property
    def kind(self):
        return self.body.get("kind")

    @property
    def name(self):
        return self.body.get("metadata", {}).get("name")

    @property
    def label(self):
        return f"{self.file.name}: {self.kind}/{self.name}"


def documents_of(file):
    """The YAML documents of one file."""
    return [Document(Path(file), body) for body in yaml.safe_load_all(Path(file).read_text()) if body]


def documents(folder=FOLDER):
    """Every YAML document of every *.yaml file in `folder`, in file order."""
    return [document for file in sorted(Path(folder).glob("*.yaml")) for document in documents_of(file)]


def edited(docs, kind, change):
    """A deep copy of `docs` with `change(body)` applied to the first document of `kind`: for showing that a check fails."""
    docs = copy.deepcopy(docs)
    change(next(document for document in docs if document.kind == kind).body)
    return docs


def pod_spec(document):
    """The pod template's spec of a Deployment or Job, else None."""
    return document.body.get("spec", {}).get("template", {}).get("spec") if document.kind in ("Deployment", "Job") else None


@dataclass
class Container:
    document: Document
    pod: dict
    body: dict
    init: bool

    @property
    def label(self):
        return f"{self.document.label} {'init container' if self.init else 'container'} {self.body.get('name')}"

    @property
    def environment(self):
        """Its env entries with a literal value, by name."""
        return {entry["name"]: entry.get("value") for entry in self.body.get("env", []) if "value" in entry}

    def mount_at(self, path):
        """The name of the volume mounted at `path`, or None."""
        return next((mount["name"] for mount in self.body.get("volumeMounts", []) if mount["mountPath"] == path), None)


def containers(docs):
    for document in docs:
        pod = pod_spec(document)
        if pod is None:
            continue
        for init, key in ((True, "initContainers"), (False, "containers")):
            for body in pod.get(key, []):
                yield Container(document, pod, body, init)


def shell_words(script):
    lexer = shlex.shlex(script, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    return list(lexer)


def invocations(container):
    """The words after `blindspot` of every blindspot command the container runs: its command and args, or the
    script of `/bin/sh -c SCRIPT` split as the shell would (flags inside `$( … )` count as the command's)."""
    argv = [*container.body.get("command", []), *container.body.get("args", [])]
    if len(argv) >= 3 and argv[0] in ("/bin/sh", "sh", "/bin/bash", "bash") and argv[1] == "-c":
        argv = shell_words(argv[2])
    # A program is the first word, or a word after `exec` or after shell punctuation.
    starts = [index for index, word in enumerate(argv) if Path(word).name == "blindspot"
              and (index == 0 or argv[index - 1] == "exec" or argv[index - 1] in SHELL_PUNCTUATION)]
    return [[word for word in argv[start + 1:end] if word not in SHELL_PUNCTUATION]
            for start, end in zip(starts, starts[1:] + [len(argv)])]


def option_value(words, flag):
    """The value given to `flag` (`--flag value` or `--flag=value`; the last one counts), or None."""
    value = None
    for index, word in enumerate(words):
        if word == flag and index + 1 < len(words):
            value = words[index + 1]
        elif word.startswith(flag + "="):
            value = word[len(flag) + 1:]
    return value


def cpu_quantity(text):
    """Kubernetes' CPU quantity ("2", "500m", 1.5) in cores."""
    text = str(text)
    return int(text[:-1]) / 1000 if text.endswith("m") else float(text)


class Help:
    """The subcommands and options of `blindspot [SUBCOMMAND…] --help`, read from the binary's own help."""

    def __init__(self, binary):
        self.binary = str(binary)

    @cache
    def sections(self, path):
        """{"OPTIONS": {"--port", …}, "SUBCOMMANDS": {"run": True (the default), …}} of `blindspot *path --help`."""
        result = subprocess.run([self.binary, *path, "--help"], capture_output=True, text=True, timeout=30)
        assert result.returncode == 0, f"`blindspot {' '.join(path)} --help` exited with {result.returncode}: {result.stderr}"
        options, subcommands, section = set(), {}, None
        for line in result.stdout.splitlines():
            heading = re.match(r"^([A-Z][A-Z ]+):", line)
            if heading:
                section = heading.group(1)
            elif section == "OPTIONS" and (option := re.match(r"^  (?:-\w, )?(--[\w-]+)", line)):
                options.add(option.group(1))
            elif section == "SUBCOMMANDS" and (subcommand := re.match(r"^  ([a-z][\w-]*)( \(default\))?(?:\s|$)", line)):
                subcommands[subcommand.group(1)] = bool(subcommand.group(2))
        return {"OPTIONS": options, "SUBCOMMANDS": subcommands}

    def resolve(self, words):
        """(the subcommand path, the words after it): `eval DIR …` → (("eval", "run"), ["DIR", …]), run being eval's default."""
        path = ()
        while words and words[0] in self.sections(path)["SUBCOMMANDS"]:
            path, words = path + (words[0],), words[1:]
        default = [name for name, is_default in self.sections(path)["SUBCOMMANDS"].items() if is_default]
        return path + tuple(default), words

    def options(self, path):
        return self.sections(tuple(path))["OPTIONS"]


def command_problems(docs, help):
    """Every blindspot subcommand and --flag in the manifests exists in that subcommand's --help."""
    problems = []
    for container in containers(docs):
        for words in invocations(container):
            path, rest = help.resolve(words)
            if not path or help.sections(path)["SUBCOMMANDS"]:
                problems.append(f"{container.label}: `blindspot {' '.join(words[:2])}` names no subcommand of blindspot")
                continue
            for word in rest:
                flag = word.split("=", 1)[0]
                if flag.startswith("--") and flag not in help.options(path):
                    problems.append(f"{container.label}: `blindspot {' '.join(path)}` has no {flag} (not in its --help)")
    return problems


def serving(docs):
    """(container, words) of every container that runs `blindspot serve`."""
    return [(container, words) for container in containers(docs) for words in invocations(container) if words[:1] == ["serve"]]


def resolve_port(container, port):
    """The containerPort a probe's or Service's port (a number or a port's name) means in `container`, or None."""
    for declared in container.body.get("ports", []):
        if port in (declared.get("name"), declared["containerPort"]):
            return declared["containerPort"]
    return None


def probes(container):
    return {kind: container.body[kind] for kind in ("startupProbe", "readinessProbe", "livenessProbe") if kind in container.body}


def probe_paths(docs):
    """{path: [where it is used]} of every HTTP probe."""
    used = {}
    for container in containers(docs):
        for kind, probe in probes(container).items():
            if "httpGet" in probe:
                used.setdefault(probe["httpGet"]["path"], []).append(f"{container.label} {kind}")
    return used


def route_problems(used_paths, documented_paths, status_of):
    """Each probe path is in the server's /openapi.json and answers GET with 200 or 503 (not 404)."""
    problems = []
    for path, users in sorted(used_paths.items()):
        if path not in documented_paths:
            problems.append(f"{path} ({', '.join(users)}) is not a path of the server's /openapi.json")
        status = status_of(path)
        if status not in (200, 503):
            problems.append(f"{path} ({', '.join(users)}) answered GET with {status}")
    return problems


def port_problems(docs):
    """serve listens on 0.0.0.0 at --port; that port is a named container port; probes and Services reach it."""
    problems = []
    for container, words in serving(docs):
        host, port = option_value(words, "--host"), option_value(words, "--port")
        if host not in ("0.0.0.0", "::"):
            problems.append(f"{container.label}: serve listens on {host or 'its default, 127.0.0.1'}, which other pods cannot reach; give --host 0.0.0.0")
        if port is None or not port.isdigit():
            problems.append(f"{container.label}: serve has no numeric --port (got {port})")
            continue
        port = int(port)
        if not any(declared["containerPort"] == port and declared.get("name") for declared in container.body.get("ports", [])):
            problems.append(f"{container.label}: no named container port is serve's --port {port}")
        for kind, probe in probes(container).items():
            probe_port = (probe.get("httpGet") or probe.get("tcpSocket") or probe.get("grpc") or {}).get("port")
            if resolve_port(container, probe_port) != port:
                problems.append(f"{container.label}: the {kind}'s port {probe_port} is not serve's --port {port}")
        labels = container.document.body["spec"]["template"]["metadata"].get("labels", {})
        for service in (document for document in docs if document.kind == "Service"):
            selector = service.body["spec"].get("selector", {})
            if not selector or any(labels.get(key) != value for key, value in selector.items()):
                continue
            for service_port in service.body["spec"]["ports"]:
                target = service_port.get("targetPort", service_port["port"])
                if resolve_port(container, target) != port:
                    problems.append(f"{service.label}: targetPort {target} is not {container.label}'s --port {port}")
    return problems


def selector_problems(docs):
    """The Service, the autoscaler and the disruption budget find the server's pods (or its Deployment)."""
    problems = []
    deployments = {document.name: document for document in docs if document.kind == "Deployment"}
    pod_labels = [document.body["spec"]["template"]["metadata"].get("labels", {}) for document in deployments.values()]

    def selects(selector):
        return bool(selector) and any(all(labels.get(key) == value for key, value in selector.items()) for labels in pod_labels)

    for document in docs:
        spec = document.body.get("spec", {})
        if document.kind == "Service" and not selects(spec.get("selector")):
            problems.append(f"{document.label}: its selector {spec.get('selector')} matches no Deployment's pods")
        elif document.kind == "PodDisruptionBudget" and not selects(spec.get("selector", {}).get("matchLabels")):
            problems.append(f"{document.label}: its selector matches no Deployment's pods")
        elif document.kind == "HorizontalPodAutoscaler":
            target = spec.get("scaleTargetRef", {})
            if target.get("kind") != "Deployment" or target.get("name") not in deployments:
                problems.append(f"{document.label}: it scales {target.get('kind')}/{target.get('name')}, which no file defines")
    return problems


def thread_problems(docs, help):
    """Every container running a blindspot command that takes --threads gives it, and OMP_NUM_THREADS, its CPU limit."""
    problems = []
    for container in containers(docs):
        for words in invocations(container):
            path, _ = help.resolve(words)
            if "--threads" not in help.options(path):
                continue
            limit = container.body.get("resources", {}).get("limits", {}).get("cpu")
            if limit is None or cpu_quantity(limit) != int(cpu_quantity(limit)):
                problems.append(f"{container.label}: `blindspot {' '.join(path)}` needs a whole-core CPU limit (has {limit})")
                continue
            cores = str(int(cpu_quantity(limit)))
            for what, value in (("--threads", option_value(words, "--threads")), ("OMP_NUM_THREADS", container.environment.get("OMP_NUM_THREADS"))):
                if value != cores:
                    problems.append(f"{container.label}: {what} is {value}, not the CPU limit {cores}")
    return problems


def defined_secrets(docs):
    """{name: keys} of the Secrets the files define, and of those CloudNativePG creates for their Clusters."""
    secrets = {}
    for document in docs:
        if document.kind == "Secret":
            secrets[document.name] = set(document.body.get("data", {})) | set(document.body.get("stringData", {}))
        elif document.kind == "Cluster" and document.body.get("apiVersion") == CLOUDNATIVEPG_API:
            secrets[f"{document.name}-app"] = set(CLOUDNATIVEPG_APP_SECRET_KEYS)
    return secrets


def secret_problems(docs):
    """Every Secret (and key) a pod reads, by env, envFrom or volume, is defined in the files."""
    problems, secrets = [], defined_secrets(docs)

    def check(where, name, key=None):
        if name not in secrets:
            problems.append(f"{where}: reads the Secret {name}, which no file defines (defined: {', '.join(sorted(secrets)) or 'none'})")
        elif key is not None and key not in secrets[name]:
            problems.append(f"{where}: reads the key {key} of the Secret {name}, which has {', '.join(sorted(secrets[name]))}")

    for container in containers(docs):
        for entry in container.body.get("env", []):
            reference = entry.get("valueFrom", {}).get("secretKeyRef")
            if reference:
                check(f"{container.label} env {entry['name']}", reference["name"], reference["key"])
        for source in container.body.get("envFrom", []):
            if "secretRef" in source:
                check(f"{container.label} envFrom", source["secretRef"]["name"])
    for document in docs:
        for volume in (pod_spec(document) or {}).get("volumes", []):
            if "secret" in volume:
                items = volume["secret"].get("items") or [{}]
                for item in items:
                    check(f"{document.label} volume {volume['name']}", volume["secret"]["secretName"], item.get("key"))
    return problems


def shutdown_problems(docs):
    """serve is given --shutdown-grace, and the pod's termination grace period outlasts it plus the preStop pause."""
    problems = []
    for container, words in serving(docs):
        grace = option_value(words, "--shutdown-grace")
        if grace is None:
            problems.append(f"{container.label}: serve has no --shutdown-grace, so the pod's grace period cannot be checked against it")
            continue
        pause = container.body.get("lifecycle", {}).get("preStop", {}).get("sleep", {}).get("seconds", 0)
        period = container.pod.get("terminationGracePeriodSeconds", 30)
        if period <= float(grace) + pause:
            problems.append(f"{container.label}: terminationGracePeriodSeconds {period} does not outlast the preStop pause "
                            f"{pause} s plus --shutdown-grace {grace} s; the kubelet would SIGKILL a graceful shutdown")
    return problems


def models_named(words):
    """The models a command's --model (repeatable) or --models (comma-separated) name."""
    values = [words[index + 1] for index, word in enumerate(words[:-1]) if word in ("--model", "--models")]
    values += [word.split("=", 1)[1] for word in words if word.startswith(("--model=", "--models="))]
    return {name for value in values for name in value.split(",") if name}


def model_problems(docs, help):
    """Each pod fetches, in an init container, every model its commands run, into the volume they read as
    BLINDSPOT_HOME (the binary's model cache); and each command that takes models names them."""
    problems = []
    pods = {}
    for container in containers(docs):
        pods.setdefault(container.document.label, []).append(container)
    for members in pods.values():
        fetched, caches = set(), set()
        for container in (member for member in members if member.init):
            for words in invocations(container):
                if words[:2] == ["models", "fetch"]:
                    home = container.environment.get("BLINDSPOT_HOME")
                    fetched |= set(words[2:])
                    caches.add((home, container.mount_at(home)))
        for container in (member for member in members if not member.init):
            for words in invocations(container):
                path, _ = help.resolve(words)
                if not help.options(path) & {"--model", "--models"}:
                    continue
                home = container.environment.get("BLINDSPOT_HOME")
                if (home, container.mount_at(home)) not in caches:
                    problems.append(f"{container.label}: BLINDSPOT_HOME {home} (volume {container.mount_at(home)}) is not where an "
                                    f"init container fetched weights ({sorted(caches, key=str) or 'none'})")
                used = models_named(words)
                if not used:
                    problems.append(f"{container.label}: `blindspot {' '.join(path)}` names no model, so it would run whatever is cached")
                elif used - fetched:
                    problems.append(f"{container.label}: runs {', '.join(sorted(used - fetched))}, which no init container fetches")
    return problems


def header_problems(folder=FOLDER):
    """Each file opens with a comment saying what it is, and what to change ("yours")."""
    problems = []
    for file in sorted(Path(folder).glob("*.yaml")):
        lines = file.read_text().splitlines()
        header = " ".join(line for line in lines[:next((i for i, line in enumerate(lines) if not line.startswith("#")), len(lines))])
        if not header:
            problems.append(f"{file.name}: does not open with a comment saying what it is")
        elif "yours" not in header.lower():
            problems.append(f"{file.name}: its opening comment does not say what to change (\"yours\")")
    return problems


# The fields of postgres-cluster.yaml, as CloudNativePG's API reference defines them
# (https://cloudnative-pg.io/documentation/current/cloudnative-pg.v1/#postgresql-cnpg-io-v1-ClusterSpec): a small schema
# of our own, since kubernetes-validate has none for this kind. Unknown fields are refused, as --strict does for the rest.
QUANTITY = {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$"}
RESOURCES = {"type": "object", "additionalProperties": False,
             "properties": {"requests": {"type": "object", "propertyNames": {"enum": ["cpu", "memory"]}, "additionalProperties": QUANTITY},
                            "limits": {"type": "object", "propertyNames": {"enum": ["cpu", "memory"]}, "additionalProperties": QUANTITY}}}
CLUSTER_SCHEMA = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "additionalProperties": False,
    "properties": {
        "apiVersion": {"const": CLOUDNATIVEPG_API},
        "kind": {"const": "Cluster"},
        "metadata": {"type": "object", "required": ["name"],
                     "properties": {"name": {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", "maxLength": 50},
                                    "labels": {"type": "object", "additionalProperties": {"type": "string"}}}},
        "spec": {
            "type": "object",
            "required": ["instances", "storage"],
            "additionalProperties": False,
            "properties": {
                "instances": {"type": "integer", "minimum": 1},
                "imageName": {"type": "string"},
                "storage": {"type": "object", "required": ["size"], "additionalProperties": False,
                            "properties": {"size": QUANTITY, "storageClass": {"type": "string"}}},
                "bootstrap": {"type": "object", "additionalProperties": False,
                              "properties": {"initdb": {"type": "object", "additionalProperties": False,
                                                        "properties": {"database": {"type": "string"}, "owner": {"type": "string"},
                                                                       "secret": {"type": "object", "required": ["name"],
                                                                                  "properties": {"name": {"type": "string"}}}}}}},
                "resources": RESOURCES,
                "enableSuperuserAccess": {"type": "boolean"},
                "postgresql": {"type": "object", "properties": {"parameters": {"type": "object", "additionalProperties": {"type": "string"}}}},
            },
        },
    },
}


def cluster_problems(docs):
    """Each CloudNativePG Cluster against CLUSTER_SCHEMA."""
    problems = []
    validator = jsonschema.Draft202012Validator(CLUSTER_SCHEMA)
    for document in docs:
        if document.body.get("apiVersion") == CLOUDNATIVEPG_API:
            for error in validator.iter_errors(document.body):
                problems.append(f"{document.label}: {'.'.join(str(part) for part in error.absolute_path) or '(top)'}: {error.message}")
    return problems


def kubernetes_validate(executable, file):
    """(exit status, output) of `kubernetes-validate --strict -k KUBERNETES_VERSION FILE`."""
    result = subprocess.run([str(executable), "--strict", "-k", KUBERNETES_VERSION, str(file)], capture_output=True, text=True, timeout=60)
    return result.returncode, (result.stdout + result.stderr).strip()
