"""The reference side of the ImageNet-C parity test: corrupts PNGs with `imagecorruptions` 1.1.2 (Hendrycks' code) into
OUT/NAME/SEVERITY/STEM.png, the layout `blindspot corrupt` writes. Runs inside .venv-corruptions (Python 3.9 with
numpy<2, scikit-image<0.19, opencv-python<4.11: scripts/corruption-reference.sh makes it); it is not a test itself.

NumPy's generator is seeded afresh for every (image, corruption, severity) from --seed, the image's stem, the name and
the severity, so a rerun writes the same files whatever the order the workers take the jobs in. Several seeds
(--seed 1,2,3) make replicates in one run, each in --out with `{seed}` replaced. Prints one JSON object: the seconds
each corruption took (summed over its images, severities and seeds, in the worker processes)."""
import argparse
import json
import os
import sys
import time
import zlib
from collections import defaultdict
from multiprocessing import Pool
from pathlib import Path

# One thread per worker process: the workers themselves are the parallelism (set before NumPy and OpenCV load).
for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[variable] = "1"

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from imagecorruptions import corrupt, get_corruption_names  # noqa: E402
from imagecorruptions.corruptions import gaussian  # noqa: E402  (skimage.filters.gaussian, as glass_blur calls it)

cv2.setNumThreads(1)


def job_seed(seed, stem, name, severity):
    """A 32-bit seed for np.random.seed, stable across runs and processes (unlike Python's hash of a str)."""
    return zlib.crc32(f"{seed}/{stem}/{name}/{severity}".encode())


# imagecorruptions' glass_blur parameters: (sigma, max_delta, iterations) by severity.
GLASS_BLUR = [(0.7, 1, 2), (0.9, 2, 1), (1, 2, 3), (1.1, 3, 2), (1.5, 4, 2)]


def glass_blur_twin(image, severity):
    """imagecorruptions' glass_blur, the same numbers from the same NumPy draws, about ten times faster: its per-pixel loop
    draws `np.random.randint(-d, d, size=(2,))` once a pixel, which is the stream one `size=(N, 2)` call gives, and its
    "swap" `x[h, w], x[h', w'] = x[h', w'], x[h, w]` on NumPy views only copies (h', w') into (h, w) (the second assignment
    writes back the value just copied), so the loop becomes a map of source indices over plain ints. The parity test
    uses it (--glass-blur twin) and checks it pixel for pixel against the real glass_blur (test_glass_blur_twin)."""
    sigma, delta, iterations = GLASS_BLUR[severity - 1]
    x = np.uint8(gaussian(np.array(image) / 255., sigma=sigma, multichannel=True) * 255)
    height, width = x.shape[:2]
    rows, columns = range(height - delta, delta, -1), range(width - delta, delta, -1)
    source = list(range(height * width))
    for _ in range(iterations):
        offsets = np.random.randint(-delta, delta, size=(len(rows) * len(columns), 2)).tolist()
        index = 0
        for h in rows:
            for w in columns:
                dx, dy = offsets[index]
                index += 1
                source[h * width + w] = source[(h + dy) * width + (w + dx)]
    x = x.reshape(height * width, -1)[source].reshape(height, width, -1)
    return np.uint8(np.clip(gaussian(x / 255., sigma=sigma, multichannel=True), 0, 1) * 255)


def run_job(job):
    """Corrupts one image with one corruption at one severity; returns (name, seconds)."""
    path, name, severity, seed, out, glass_blur = job
    image = np.asarray(Image.open(path).convert("RGB"))
    stem = Path(path).stem
    np.random.seed(job_seed(seed, stem, name, severity))
    start = time.perf_counter()
    if name == "glass_blur" and glass_blur == "twin":
        corrupted = glass_blur_twin(image, severity)
    else:
        corrupted = corrupt(image, severity=severity, corruption_name=name)
    seconds = time.perf_counter() - start
    target = Path(out) / name / str(severity) / f"{stem}.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(corrupted).save(target, compress_level=1)
    return name, seconds


def corruption_names(text):
    """NAME[,NAME…], `common` (the 15 of the benchmark) or `all` (with the 4 held-out ones), as `blindspot corrupt` takes them."""
    if text in ("common", "all"):
        return get_corruption_names(text)
    names = [name for name in text.split(",") if name]
    unknown = [name for name in names if name not in get_corruption_names("all")]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown corruption {', '.join(unknown)} (known: {', '.join(get_corruption_names('all'))})")
    return names


def severities(text):
    if text == "all":
        return [1, 2, 3, 4, 5]
    values = [int(value) for value in text.split(",")]
    if any(value not in range(1, 6) for value in values):
        raise argparse.ArgumentTypeError(f"severities are 1 to 5, not {text}")
    return values


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("images", nargs="+", type=Path, help="PNG (or any Pillow-readable) images")
    parser.add_argument("--out", required=True, help="writes OUT/NAME/SEVERITY/STEM.png; `{seed}` in OUT is replaced by the seed")
    parser.add_argument("--corruption", type=corruption_names, default=get_corruption_names("all"), help="NAME[,NAME…], common or all")
    parser.add_argument("--severity", type=severities, default=[1, 2, 3, 4, 5], help="N[,N…] or all")
    parser.add_argument("--seed", type=lambda text: [int(value) for value in text.split(",")], default=[0], help="N[,N…]")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--glass-blur", choices=["reference", "twin"], default="reference",
                        help="imagecorruptions' own glass_blur, or glass_blur_twin (the same pixels, about ten times faster)")
    options = parser.parse_args()
    missing = [str(path) for path in options.images if not path.is_file()]
    if missing:
        parser.error(f"no such image: {', '.join(missing)}")
    if len(options.seed) > 1 and "{seed}" not in options.out:
        parser.error("several seeds need `{seed}` in --out")
    jobs = [(str(path), name, severity, seed, options.out.replace("{seed}", str(seed)), options.glass_blur)
            for seed in options.seed for name in options.corruption for severity in options.severity for path in options.images]
    # Glass blur (pure-Python pixel loops) is by far the slowest: start it first so that it does not finish last alone.
    jobs.sort(key=lambda job: job[1] != "glass_blur")
    seconds = defaultdict(float)
    start = time.perf_counter()
    with Pool(options.workers) as pool:
        for name, job_seconds in pool.imap_unordered(run_job, jobs, chunksize=1):
            seconds[name] += job_seconds
    json.dump({"wall_seconds": round(time.perf_counter() - start, 2), "workers": options.workers,
               "corruption_seconds": {name: round(value, 3) for name, value in seconds.items()}}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
