"""Where the tests find the repository, ../shared and its photos."""
import os
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]
PHOTO_SUFFIXES = (".jpeg", ".jpg", ".png")


def default_shared():
    """$BLINDSPOT_SHARED, or the shared folder beside the repository."""
    return Path(os.environ.get("BLINDSPOT_SHARED") or REPOSITORY.parent / "shared")


def sample_photos(shared):
    """The photos of shared/imagenet-sample, sorted by name, as absolute paths."""
    folder = Path(shared) / "imagenet-sample"
    return sorted(path.resolve() for path in folder.iterdir() if path.suffix.lower() in PHOTO_SUFFIXES)


def first_photo(shared):
    photos = sample_photos(shared)
    assert photos, f"{Path(shared) / 'imagenet-sample'} has photos"
    return photos[0]
