"""ImageNet-C corruption parity (Tests/Corruptions/test_parity.py): running the reference (imagecorruptions 1.1.2 in
.venv-corruptions, through Tests/Corruptions/reference_corrupt.py) and `blindspot corrupt` into one layout,
ROOT/NAME/SEVERITY/STEM.png, and the numbers that compare the two: pixel differences, pooled per-channel moments with
their jackknife error, paired top-1 accuracy. What counts as a pass is the test's to say, not this module's."""
import hashlib
import json
import math
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from . import paths

# imagecorruptions' order (corruption_tuple): the 15 of the benchmark, then the 4 held out.
NAMES = ("gaussian_noise", "shot_noise", "impulse_noise", "defocus_blur", "glass_blur", "motion_blur", "zoom_blur",
         "snow", "frost", "fog", "brightness", "contrast", "elastic_transform", "pixelate", "jpeg_compression",
         "speckle_noise", "gaussian_blur", "spatter", "saturate")
DETERMINISTIC = ("brightness", "contrast", "saturate", "pixelate", "jpeg_compression", "defocus_blur", "zoom_blur", "gaussian_blur")
RANDOM = tuple(name for name in NAMES if name not in DETERMINISTIC)
SEVERITIES = (1, 2, 3, 4, 5)
REFERENCE_SCRIPT = paths.REPOSITORY / "Tests" / "Corruptions" / "reference_corrupt.py"
REFERENCE_SETUP = "scripts/corruption-reference.sh (or `make test-corruptions`)"
TIMEOUT_S = 1800


def image_path(root, name, severity, stem):
    """ROOT/NAME/SEVERITY/STEM.png, or ROOT/STEM.png for the clean inputs (no name and severity)."""
    return Path(root) / f"{stem}.png" if name is None else Path(root) / name / str(severity) / f"{stem}.png"


# The reference side.

def reference_problem(python):
    """Why the reference's environment cannot run, in words, or None."""
    python = Path(python)
    stamp = python.parent.parent / "reference-stamp"
    if not python.is_file():
        return f"{python} does not exist: make the reference's environment with {REFERENCE_SETUP}"
    if not stamp.is_file():
        return f"{stamp} is missing (an environment not made, or not finished, by {REFERENCE_SETUP})"
    return None


def reference_stamp(python):
    return (Path(python).parent.parent / "reference-stamp").read_text()


def frost_textures(python):
    """The frost photographs inside the installed imagecorruptions package."""
    finished = subprocess.run([str(python), "-c", "import imagecorruptions, pathlib; print(pathlib.Path(imagecorruptions.__file__).parent / 'frost')"],
                              capture_output=True, text=True, timeout=120)
    assert finished.returncode == 0, f"{python} cannot import imagecorruptions: {finished.stderr[-2000:]}"
    folder = Path(finished.stdout.strip())
    assert sorted(path.name for path in folder.iterdir())[:5] == ["frost1.png", "frost2.png", "frost3.png", "frost4.jpg", "frost5.jpg"], \
        f"{folder} holds imagecorruptions' frost photographs"
    return folder


def run_reference(python, images, root, names, severities, seeds, glass_blur="reference"):
    """Runs reference_corrupt.py into ROOT/seed-S/NAME/SEVERITY/STEM.png for each seed, unless a finished run with the
    same script, environment, images and arguments is already there (its key is in ROOT's name, so a change makes a new
    folder). Returns ({seed: folder}, the script's timing JSON plus "reused")."""
    images = sorted(map(Path, images))
    arguments = {"names": list(names), "severities": list(severities), "seeds": list(seeds), "glass_blur": glass_blur}
    digest = hashlib.sha256(REFERENCE_SCRIPT.read_bytes() + reference_stamp(python).encode() + json.dumps(arguments).encode())
    for image in images:
        digest.update(image.name.encode() + image.read_bytes())
    root = Path(f"{root}-{digest.hexdigest()[:12]}")
    folders = {seed: root / f"seed-{seed}" for seed in seeds}
    finished_marker = root / "timing.json"
    if finished_marker.is_file():
        return folders, dict(json.loads(finished_marker.read_text()), reused=True)
    shutil.rmtree(root, ignore_errors=True)
    command = [str(python), str(REFERENCE_SCRIPT), *map(str, images), "--out", str(root / "seed-{seed}"),
               "--corruption", ",".join(names), "--severity", ",".join(map(str, severities)),
               "--seed", ",".join(map(str, seeds)), "--glass-blur", glass_blur, "--workers", "2"]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S)
    assert finished.returncode == 0, f"reference_corrupt.py exited {finished.returncode}: {finished.stderr[-3000:]}"
    timing = json.loads(finished.stdout.strip().splitlines()[-1])
    finished_marker.write_text(json.dumps(timing))
    return folders, dict(timing, reused=False)


# Blindspot's side.

def corrupt_command_problem(blindspot):
    """Why `blindspot corrupt` cannot be run, or None. (An unknown subcommand with --help prints the top-level help
    and exits 0, so the answer is read from the usage line.)"""
    finished = subprocess.run([str(blindspot), "corrupt", "--help"], capture_output=True, text=True, timeout=60)
    if finished.returncode != 0 or "blindspot corrupt" not in finished.stdout:
        return f"{blindspot} has no `corrupt` command yet (issue 21); `{blindspot} corrupt --help` printed: {finished.stdout[:300]!r}"
    return None


def run_blindspot(blindspot, images, root, names, severities, seeds, frost_textures_folder):
    """`blindspot corrupt` once per corruption and seed (and severity, unless all five are wanted: it takes N or all),
    two at a time, into ROOT/seed-S/NAME/SEVERITY/STEM.png (ROOT emptied first). One process per corruption keeps one
    that fails from hiding the others. Returns ({seed: folder}, {name: {"seconds", "failures": [text]}})."""
    root = Path(root)
    shutil.rmtree(root, ignore_errors=True)
    folders = {seed: root / f"seed-{seed}" for seed in seeds}
    severity_arguments = ["all"] if tuple(severities) == SEVERITIES else [str(severity) for severity in severities]

    def corrupt(job):
        name, seed, severity = job
        command = [str(blindspot), "corrupt", *map(str, images), "--out", str(folders[seed]), "--corruption", name,
                   "--severity", severity, "--seed", str(seed), "--frost-textures", str(frost_textures_folder)]
        start = time.monotonic()
        finished = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S)
        failure = None if finished.returncode == 0 else f"seed {seed}, severity {severity}: exited {finished.returncode}: {finished.stderr[-1500:]}"
        return name, time.monotonic() - start, failure

    runs = {name: {"seconds": 0.0, "failures": []} for name in names}
    with ThreadPoolExecutor(2) as pool:
        jobs = [(name, seed, severity) for seed in seeds for name in names for severity in severity_arguments]
        for name, seconds, failure in pool.map(corrupt, jobs):
            runs[name]["seconds"] += seconds
            if failure:
                runs[name]["failures"].append(failure)
    return folders, runs


# Reading the images.

def load(root, name, severity, stems, size):
    """The images ROOT/NAME/SEVERITY/STEM.png (ROOT/STEM.png without a name) as one uint8 array (photos, height, width, 3); every file must exist,
    be RGB and have the input's `size` (width, height)."""
    from PIL import Image

    arrays = []
    for stem in stems:
        path = image_path(root, name, severity, stem)
        assert path.is_file(), f"{path} was not written"
        with Image.open(path) as image:
            assert image.mode == "RGB" and image.size == tuple(size), f"{path} is {image.mode} {image.size}, not RGB {tuple(size)}"
            arrays.append(np.asarray(image))
    return np.stack(arrays)


# Deterministic corruptions: pixel differences.

def pixel_differences(ours, theirs, stems, border=8):
    """How (photos, height, width, 3) uint8 `ours` differs from `theirs`: the largest |Δ| and where it is, the share of
    values off by exactly 1 and by more, the mean signed Δ (−0.5 or +0.5 is a rounding convention: the reference
    truncates, np.uint8), the largest |Δ| per channel, and how many of the values off by more than 1 lie in the
    `border`-pixel band at the edges (against that band's share of the area)."""
    delta = ours.astype(np.int16) - theirs.astype(np.int16)
    magnitude = np.abs(delta)
    larger = magnitude > 1
    height, width = ours.shape[1:3]
    band = np.ones((height, width), dtype=bool)
    band[border:height - border, border:width - border] = False
    photo, y, x, channel = np.unravel_index(int(np.argmax(magnitude)), magnitude.shape)
    larger_count = int(larger.sum())
    per_photo = larger.reshape(len(stems), -1).sum(axis=1)
    return {
        "max": int(magnitude.max()),
        "off_by_1": float((magnitude == 1).mean()),
        "off_by_more": float(larger.mean()),
        "mean_signed": float(delta.mean()),
        "max_by_channel": [int(magnitude[..., index].max()) for index in range(3)],
        "largest_at": f"{stems[photo]} y={y} x={x} channel={'RGB'[channel]}: ours {int(ours[photo, y, x, channel])}, reference {int(theirs[photo, y, x, channel])}",
        "border_share_of_larger": (float(larger[:, band, :].sum()) / larger_count) if larger_count else None,
        "border_share_of_area": float(band.mean()),
        "photo_with_most_larger": stems[int(np.argmax(per_photo))] if larger_count else None,
    }


# Random corruptions: pooled moments.

def photo_moments(images):
    """Per photo and channel: value count, sum and sum of squares (float64), from (photos, height, width, 3) values."""
    values = images.reshape(images.shape[0], -1, 3).astype(np.float64)
    return {"count": np.full((images.shape[0], 1), values.shape[1], dtype=np.float64),
            "sum": values.sum(axis=1), "squares": (values ** 2).sum(axis=1)}


def add_moments(first, second):
    return {key: first[key] + second[key] for key in first} if first else second


def pooled(moments, keep=None):
    """Per-channel mean and population variance of the pixels of the photos `keep` (a boolean mask; all by default)."""
    keep = np.ones(moments["count"].shape[0], dtype=bool) if keep is None else keep
    count = moments["count"][keep].sum(axis=0)
    mean = moments["sum"][keep].sum(axis=0) / count
    return mean, moments["squares"][keep].sum(axis=0) / count - mean ** 2


def relative_errors(ours, theirs):
    """For the pooled per-channel mean and variance: (ours − reference) / reference, and its jackknife standard error
    over the photos (each photo, with all its replicates, left out in turn on both sides: the pairing cancels what the
    photos themselves contribute, so what is left is the corruptions' own randomness and any per-photo disagreement)."""
    def errors(keep=None):
        our_mean, our_variance = pooled(ours, keep)
        their_mean, their_variance = pooled(theirs, keep)
        return np.stack([our_mean / their_mean - 1, our_variance / their_variance - 1])

    photos = ours["count"].shape[0]
    estimate = errors()
    leave_one_out = np.stack([errors(np.arange(photos) != index) for index in range(photos)])
    spread = leave_one_out - leave_one_out.mean(axis=0)
    standard_error = np.sqrt((photos - 1) / photos * (spread ** 2).sum(axis=0))
    their_mean, their_variance = pooled(theirs)
    our_mean, our_variance = pooled(ours)
    return {"mean": {"ours": our_mean, "reference": their_mean, "error": estimate[0], "standard_error": standard_error[0]},
            "variance": {"ours": our_variance, "reference": their_variance, "error": estimate[1], "standard_error": standard_error[1]}}


# Accuracy.

def paired_accuracy(reference_correct, our_correct):
    """Top-1 accuracy (%) of both sides over the same (photo, severity) pairs, the difference reference − ours in
    points (= our accuracy cost − the reference's, the clean images being the same), and its paired standard error."""
    reference_correct, our_correct = np.asarray(reference_correct, float), np.asarray(our_correct, float)
    difference = reference_correct - our_correct
    count = len(difference)
    return {"n": count, "reference": 100 * reference_correct.mean(), "ours": 100 * our_correct.mean(),
            "difference": 100 * difference.mean(), "standard_error": 100 * difference.std(ddof=1) / math.sqrt(count)}
