"""ImageNet's conventions as the tests need them: the crop ImageNet-C made its files with, the label of a sample photo
(its WordNet id, as a class index of the project's own class list) and top-1 answers of `blindspot classify`. Not an
evaluation: accuracy arithmetic stays with the tests that assert on it."""
import json
import subprocess
from functools import cache
from pathlib import Path

from . import paths

CLASSES = paths.REPOSITORY / "Sources" / "Models" / "Resources" / "imagenet-classes.tsv"
RESIZE, CROP = 256, 224


def imagenet_c_crop(photo, target):
    """Writes `photo` as ImageNet-C made its inputs, to PNG `target`: torchvision's Resize(256) (shorter side to 256,
    the longer one truncated to int(256 * long / short), PIL bilinear) then CenterCrop(224) (offsets int(round(…)))."""
    from PIL import Image

    with Image.open(photo) as image:
        image = image.convert("RGB")
        width, height = image.size
        if width <= height:
            size = (RESIZE, int(RESIZE * height / width))
        else:
            size = (int(RESIZE * width / height), RESIZE)
        image = image.resize(size, Image.BILINEAR)
        left, top = int(round((size[0] - CROP) / 2.0)), int(round((size[1] - CROP) / 2.0))
        target = Path(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        image.crop((left, top, left + CROP, top + CROP)).save(target)
    return target


@cache
def class_indices():
    """{WordNet id: the models' output index} from the project's class list."""
    rows = [line.split("\t") for line in CLASSES.read_text().splitlines()[1:] if line.strip()]
    return {wordnet_id: int(index) for index, wordnet_id, *_ in rows}


def label_index(path):
    """The class index of a file named WNID_anything.ext."""
    wordnet_id = Path(path).name.split("_", 1)[0]
    indices = class_indices()
    assert wordnet_id in indices, f"{path}: {wordnet_id!r} is not an ImageNet WordNet id"
    return indices[wordnet_id]


def top1(blindspot, inputs, model="efficientnet_lite0", threads=2, batch=32, timeout=1800):
    """{absolute file path: top-1 class index} of `blindspot classify --json --no-resize` (inputs already the model's
    size) over files and folders, in one process."""
    command = [str(blindspot), "classify", "--model", model, "--json", "--no-resize", "--top", "1",
               "--batch", str(batch), "--threads", str(threads), *map(str, inputs)]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    assert finished.returncode == 0, f"blindspot classify exited {finished.returncode}: {finished.stderr[-2000:]}"
    answers = {}
    for line in finished.stdout.splitlines():
        if line.strip():
            answer = json.loads(line)
            answers[str(Path(answer["file"]).resolve())] = answer["predictions"][0]["index"]
    return answers
