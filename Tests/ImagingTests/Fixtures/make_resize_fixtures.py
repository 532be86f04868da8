"""Expected outputs of Pillow for ImagingTests: exact resizes of synthetic images, and digests of the two
reference pipelines on ../shared/imagenet-sample. Pillow is needed only here, never by the tests.

  pip install pillow numpy
  python make_resize_fixtures.py [IMAGENET_SAMPLE_DIR]

Writes resize-cases.json: synthetic images (the same formulas as SyntheticImages.swift) resized with BILINEAR and
BICUBIC, down by non-integer factors, up, to the same size, and with the height shrinking more than twice as
much as the width (Pillow then runs the vertical pass first); each expected uint8 output in base64.
Writes tiny-pipelines.json: digests of 1×1, 2×3 and 3×2 images through the two pipelines.
With a sample folder, also writes pipeline-digests.json: for each JPEG, the CRC-32 (zlib) and the per-channel
sums of the uint8 RGB arrays from Pillow's decode, the Inception v3 pipeline (torchvision's Resize(342) and
CenterCrop(299) on PIL images: the long side truncated, the crop offsets rounded half to even) and the EfficientNet-Lite0 pipeline (as make_efficientnet_lite0_fixture.py), each as
[width, height, crc32, red sum, green sum, blue sum]. No image data is stored.
"""
import base64, glob, json, os, sys, zlib
import numpy as np
import PIL
from PIL import Image


def noise(width, height, seed):
    """Bytes of a 31-bit linear congruential generator, row-major RGB: stresses clipping and rounding."""
    state, values = seed, bytearray()
    for _ in range(width * height * 3):
        state = (state * 1103515245 + 12345) & 0x7FFFFFFF
        values.append((state >> 16) & 0xFF)
    return Image.frombytes('RGB', (width, height), bytes(values))


def gradient(width, height):
    """Red ramps left to right, green top to bottom, blue is a sawtooth along the diagonal."""
    values = bytearray()
    for y in range(height):
        for x in range(width):
            values += bytes([x * 255 // (width - 1), y * 255 // (height - 1), (x + y) * 23 % 256])
    return Image.frombytes('RGB', (width, height), bytes(values))


SOURCES = {
    'noise-23x17': lambda: noise(23, 17, seed=1),
    'noise-9x7': lambda: noise(9, 7, seed=2),
    'noise-5x4': lambda: noise(5, 4, seed=3),
    'noise-7x5': lambda: noise(7, 5, seed=4),
    'noise-101x77': lambda: noise(101, 77, seed=5),
    'gradient-48x36': lambda: gradient(48, 36),
    'gradient-24x30': lambda: gradient(24, 30),
}
TARGETS = [
    ('noise-23x17', 10, 7), ('noise-23x17', 7, 5), ('noise-23x17', 17, 13), ('noise-23x17', 30, 9),
    ('noise-9x7', 9, 7), ('noise-5x4', 13, 11), ('noise-7x5', 16, 9), ('noise-101x77', 13, 10),
    ('gradient-48x36', 21, 15), ('gradient-24x30', 24, 11), ('gradient-24x30', 20, 8),
]
FILTERS = {'bilinear': Image.BILINEAR, 'bicubic': Image.BICUBIC}


def resize_cases():
    cases = []
    for source, width, height in TARGETS:
        for name, method in FILTERS.items():
            out = SOURCES[source]().resize((width, height), method)
            cases.append({'source': source, 'width': width, 'height': height, 'filter': name,
                          'pixels': base64.b64encode(out.tobytes()).decode()})
    return cases


def inception(img):
    """torchvision.transforms Resize(342) then CenterCrop(299) on a PIL image, as torchvision computes them."""
    w, h = img.size
    size = (342, int(342 * h / w)) if w <= h else (int(342 * w / h), 342)
    img = img.resize(size, Image.BILINEAR)
    w, h = img.size
    l, t = int(round((w - 299) / 2.0)), int(round((h - 299) / 2.0))
    return img.crop((l, t, l + 299, t + 299))


def lite0(img):
    """The reference's crop is empty below 2 pixels on the shorter side; Blindspot crops at least one pixel."""
    w, h = img.size
    c = max(1, int(224 / (224 + 32) * min(w, h)))
    l, t = (w - c + 1) // 2, (h - c + 1) // 2
    return img.crop((l, t, l + c, t + c)).resize((224, 224), Image.BICUBIC)


def digest(img):
    array = np.asarray(img, dtype=np.uint8)
    sums = array.reshape(-1, 3).sum(axis=0, dtype=np.int64)
    return [img.size[0], img.size[1], zlib.crc32(array.tobytes())] + [int(v) for v in sums]


TINY = {'noise-1x1': (1, 1, 6), 'noise-2x3': (2, 3, 7), 'noise-3x2': (3, 2, 8)}


def tiny_pipelines():
    rows = []
    for name, (width, height, seed) in TINY.items():
        img = noise(width, height, seed)
        rows.append({'source': name, 'inceptionV3': digest(inception(img)), 'efficientNetLite0': digest(lite0(img))})
    return rows


def pipeline_digests(sample_dir):
    images = []
    for path in sorted(glob.glob(os.path.join(sample_dir, '*.JPEG'))):
        img = Image.open(path).convert('RGB')
        images.append({'file': os.path.basename(path), 'decoded': digest(img),
                       'inceptionV3': digest(inception(img)), 'efficientNetLite0': digest(lite0(img))})
    return images


here = os.path.dirname(os.path.abspath(__file__))


def write_json(name, header, rows_key, rows):
    """One row per line, so the files stay small and their diffs readable."""
    lines = [json.dumps(row, separators=(',', ':')) for row in rows]
    with open(os.path.join(here, name), 'w') as f:
        f.write(json.dumps(header)[:-1] + ', "%s": [\n' % rows_key + ',\n'.join(lines) + '\n]}\n')


write_json('resize-cases.json', {'pillow': PIL.__version__}, 'cases', resize_cases())
write_json('tiny-pipelines.json', {'pillow': PIL.__version__}, 'images', tiny_pipelines())
if len(sys.argv) > 1:
    write_json('pipeline-digests.json', {
        'pillow': PIL.__version__,
        'inceptionV3': 'torchvision: shorter side to 342 (BILINEAR, long side truncated), centre crop 299 (offsets rounded half even)',
        'efficientNetLite0': 'centre crop int(224/256 * shorter side), BICUBIC resize to 224',
    }, 'images', pipeline_digests(sys.argv[1]))
