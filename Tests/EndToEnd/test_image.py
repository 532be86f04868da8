"""The runtime image's file system as scripts/build-rootfs.sh built it (--rootfs), run the way a container would run it:
`blindspot serve` chrooted into it as the Containerfile's USER with its ENV and CMD, /proc mounted, the weights cache
bound onto the BLINDSPOT_HOME volume and a fresh folder onto BLINDSPOT_DATA. The mounts live in a mount namespace of the
server's own (unshare), so they vanish with it whatever happens; the test checks that none is left. Not a container:
no network or PID isolation (podman cannot run containers on these machines). Needs root; the summary (size, start to
ready, the answer, the libraries) goes to OUT/image.json."""
import json
import os
import re
import shlex
import subprocess
import time
from pathlib import Path

import pytest

from blindspot_harness import paths
from blindspot_harness.api import call, post
from blindspot_harness.server import Server, serving

CONTAINERFILE = paths.REPOSITORY / "deploy" / "container" / "Containerfile"
# The photo classified, with the class it shows (its file name starts with the WordNet id).
PHOTO = "n01440764_tench.JPEG"
READY_TIMEOUT_S = 120
SUMMARY = "image.json"
SEED = None  # nothing here is random


def runtime_settings():
    """The Containerfile's runtime stage as {"ENV": {name: value}, "USER", "WORKDIR", "VOLUME": [...], "CMD": [...]}."""
    lines = CONTAINERFILE.read_text().splitlines()
    start = next(index for index, line in enumerate(lines) if re.match(r"FROM \S+ AS runtime$", line))
    settings = {"ENV": {}}
    for line in lines[start:]:
        instruction, _, argument = line.partition(" ")
        if instruction == "ENV":
            name, _, value = argument.partition("=")
            settings["ENV"][name] = value
        elif instruction in ("VOLUME", "CMD"):
            settings[instruction] = json.loads(argument)
        elif instruction in ("USER", "WORKDIR"):
            settings[instruction] = argument
    for required in ("USER", "WORKDIR", "VOLUME", "CMD"):
        assert required in settings, f"{CONTAINERFILE} has no {required} in its runtime stage"
    return settings


def account(root, user):
    """(uid, gid, home) of `user` in the root's /etc/passwd."""
    for line in (root / "etc" / "passwd").read_text().splitlines():
        fields = line.split(":")
        if fields[0] == user:
            return int(fields[2]), int(fields[3]), fields[5]
    raise AssertionError(f"{root}/etc/passwd has no user {user!r} (deploy/container/configure-root.sh makes it)")


def weights_cache():
    """The host's weights cache, found as `blindspot` finds it: $BLINDSPOT_HOME, else ~/.cache/blindspot."""
    return Path(os.environ.get("BLINDSPOT_HOME") or Path.home() / ".cache" / "blindspot")


def mounts_under(root):
    with open("/proc/self/mounts") as mounts:
        return [line.split()[1] for line in mounts if line.split()[1].startswith(f"{root}/")]


class ImageServer(Server):
    """Server's start, readiness and crash checks, with the image's command run inside `root`."""

    def __init__(self, root, settings, model, log_path):
        super().__init__(root / "opt" / "blindspot" / "blindspot", log_path, model)
        self.root, self.settings = root, settings
        self.uid, self.gid, self.home = account(root, settings["USER"])
        os.chown(self.data, self.uid, self.gid)

    def command(self):
        environment = {"HOME": self.home, **self.settings["ENV"]}
        models_volume, data_volume = (environment["BLINDSPOT_HOME"], environment["BLINDSPOT_DATA"])
        serve = [*self.settings["CMD"], "--host", "127.0.0.1", "--port", str(self.port), "--models", self.models]
        inside = ["chroot", f"--userspec={self.uid}:{self.gid}", f"--groups={self.gid}", str(self.root),
                  "env", "-i", "-C", self.settings["WORKDIR"], *(f"{name}={value}" for name, value in environment.items()), *serve]
        script = "\n".join([
            "set -e",
            f"mount -t proc proc {shlex.quote(str(self.root / 'proc'))}",
            f"mount --bind -o ro {shlex.quote(str(weights_cache()))} {shlex.quote(str(self.root) + models_volume)}",
            f"mount --bind {shlex.quote(str(self.data))} {shlex.quote(str(self.root) + data_volume)}",
            "exec " + shlex.join(inside),
        ])
        # Every step execs the next, so the server is this process: its pid is the one Popen returns.
        return ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", script]


@pytest.fixture(scope="module")
def root(option):
    assert os.geteuid() == 0, "the image test needs root (chroot, mount, unshare)"
    folder = Path(option.rootfs).resolve()
    assert (folder / "opt" / "blindspot" / "blindspot").is_file(), f"{folder} holds no image (scripts/build-rootfs.sh {folder})"
    assert not mounts_under(folder), f"something is already mounted under {folder}: {mounts_under(folder)}"
    return folder


def test_every_library_resolves_inside_the_root(root, summary):
    listing = subprocess.run(["chroot", str(root), "ldd", "/opt/blindspot/blindspot"], capture_output=True, text=True, check=True).stdout
    libraries = dict(re.findall(r"^\s*(\S+) => (\S+)", listing, re.MULTILINE))
    missing = [name for name, place in libraries.items() if place == "not"]
    assert not missing, f"ldd inside {root} finds no {', '.join(missing)}:\n{listing}"
    swift = {name: place for name, place in libraries.items() if name.startswith(("libswift", "libFoundation", "lib_Foundation", "libdispatch"))}
    assert "libswiftCore.so" in swift, f"the binary does not link the Swift runtime dynamically:\n{listing}"
    strays = {name: place for name, place in swift.items() if not place.startswith("/opt/blindspot/lib/")}
    assert not strays, f"Swift runtime libraries found outside /opt/blindspot/lib: {strays}"
    summary["ldd"] = f"{len(libraries)} libraries, none missing; {len(swift)} of the Swift runtime in /opt/blindspot/lib"


def test_serves_classifies_and_reports_healthy_as_its_user(root, option, shared, out, summary):
    settings = runtime_settings()
    cache = weights_cache()
    assert list(cache.glob("efficientnet-lite0-*.pth")), f"no efficientnet_lite0 weights in {cache} (make weights)"
    photo = shared / "imagenet-sample" / PHOTO
    server = ImageServer(root, settings, "efficientnet_lite0", out / "server-image.log")
    started = time.monotonic()
    with serving(server, READY_TIMEOUT_S):
        ready_seconds = time.monotonic() - started
        status = Path(f"/proc/{server.process.pid}/status").read_text()
        uids = re.search(r"^Uid:\s+(.*)$", status, re.MULTILINE).group(1).split()
        assert set(map(int, uids)) == {server.uid}, f"the server runs as uids {uids}, not only as {settings['USER']} ({server.uid})"
        groups = re.search(r"^Groups:\s*(.*)$", status, re.MULTILINE).group(1).split()
        assert "0" not in groups, f"the server keeps root's group: Groups {groups}"

        wordnet_id = PHOTO.split("_")[0]
        answer = post(server.base_url, f"/api/v1/classify?model=efficientnet_lite0&top=1&expected={wordnet_id}", photo.read_bytes(), "image/jpeg")
        assert answer.status == 200, f"classify answered {answer.status}: {answer.data[:500]!r}"
        top, expected = answer.json["predictions"][0], answer.json["expected"]
        assert top["index"] == expected["index"], f"{PHOTO}: top-1 is {top['label']} ({top['probability']:.3f}), not {expected['label']}"

        examples = call(server.base_url, "/api/v1/examples")
        assert examples.status == 200 and examples.json, f"/api/v1/examples answered {examples.status}: {examples.data[:300]!r}"
        without_image = [example["id"] for example in examples.json if not example["imageAvailable"]]
        assert not without_image, f"the image's examples {without_image} have no image file"

        health = subprocess.run(["chroot", f"--userspec={server.uid}:{server.gid}", str(root), "/opt/blindspot/healthcheck", str(server.port)],
                                capture_output=True, text=True, timeout=30)
        assert health.returncode == 0, f"the image's HEALTHCHECK failed with status {health.returncode}: {health.stderr}"
    assert not mounts_under(root), f"mounts left under {root} after the server stopped: {mounts_under(root)}"

    size = subprocess.run(["du", "-sh", "--one-file-system", str(root)], capture_output=True, text=True, check=True).stdout.split()[0]
    summary.update({"rootfs": str(root), "size": size, "start to ready": f"{ready_seconds:.2f} s",
                    "classified": f"{PHOTO} → {top['label']} ({top['probability']:.1%}), top-1 right",
                    "examples": f"{len(examples.json)} from the image's {settings['ENV']['BLINDSPOT_SHARED']}/seed-examples",
                    "healthcheck": "exit 0", "user": f"{settings['USER']} (uid {server.uid})"})
