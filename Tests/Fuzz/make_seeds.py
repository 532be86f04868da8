#!/usr/bin/env python3
"""Seed inputs for the fuzz targets, made here (nothing third-party is committed): small valid images of every
accepted format, safetensors and ONNX files encoded by hand, and the project's own tiny PyTorch checkpoints.

    python3 Tests/Fuzz/make_seeds.py OUT    → OUT/image, OUT/pytorch-zip, OUT/pytorch-legacy, OUT/safetensors, OUT/onnx
"""
import io
import json
import shutil
import struct
import sys
from pathlib import Path

from PIL import Image

FIXTURES = Path(__file__).resolve().parent.parent / "WeightsTests" / "Fixtures"


def images(out):
    picture = Image.new("RGB", (40, 30))
    for x in range(40):
        for y in range(30):
            picture.putpixel((x, y), (x * 6, y * 8, (x * y) % 256))
    variants = {
        "baseline.jpg": (picture, "JPEG", {"quality": 80}),
        "progressive.jpg": (picture, "JPEG", {"quality": 80, "progressive": True}),
        "gray.jpg": (picture.convert("L"), "JPEG", {}),
        "rgb.png": (picture, "PNG", {}),
        "gray.png": (picture.convert("L"), "PNG", {}),
        "palette.png": (picture.convert("P"), "PNG", {}),
        "alpha.png": (picture.convert("RGBA"), "PNG", {}),
        "lossy.webp": (picture, "WEBP", {"quality": 70}),
        "lossless.webp": (picture, "WEBP", {"lossless": True}),
        "still.gif": (picture, "GIF", {}),
        "animated.gif": (picture, "GIF", {"save_all": True, "append_images": [picture.rotate(90)], "duration": 50}),
    }
    for name, (image, kind, options) in variants.items():
        buffer = io.BytesIO()
        image.save(buffer, kind, **options)
        (out / name).write_bytes(buffer.getvalue())


def safetensors(out):
    def file(tensors, metadata=None):
        header, data = {}, b""
        for name, (dtype, shape, raw) in tensors.items():
            header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
            data += raw
        if metadata:
            header["__metadata__"] = metadata
        encoded = json.dumps(header).encode()
        return struct.pack("<Q", len(encoded)) + encoded + data

    (out / "f32.safetensors").write_bytes(file({"conv.weight": ("F32", [2, 3], struct.pack("<6f", *range(6)))}, {"format": "pt"}))
    (out / "mixed.safetensors").write_bytes(file({
        "a": ("F16", [4], struct.pack("<4e", 1, 2, 3, 4)),
        "b": ("BF16", [2], b"\x80\x3f\x00\x40"),
        "c": ("I64", [1], struct.pack("<q", 7)),
        "scalar": ("F64", [], struct.pack("<d", 0.5)),
    }))


def onnx(out):
    def varint(value):
        value &= (1 << 64) - 1
        encoded = bytearray()
        while value >= 0x80:
            encoded.append(value & 0x7F | 0x80)
            value >>= 7
        return bytes(encoded + bytes([value]))

    def key(number, wire):
        return varint(number << 3 | wire)

    def integer(number, value):
        return key(number, 0) + varint(value)

    def nested(number, data):
        return key(number, 2) + varint(len(data)) + data

    def text(number, value):
        return nested(number, value.encode())

    def tensor(name, shape, floats):
        return b"".join(integer(1, d) for d in shape) + integer(2, 1) + text(8, name) + nested(9, struct.pack(f"<{len(floats)}f", *floats))

    def attribute(name, kind, payload):
        return text(1, name) + payload + integer(20, kind)

    def ints(name, values):
        return nested(5, attribute(name, 7, nested(8, b"".join(varint(v) for v in values))))

    def node(op, inputs, outputs, *attributes):
        return b"".join(text(1, i) for i in inputs) + b"".join(text(2, o) for o in outputs) + text(3, op.lower()) + text(4, op) + b"".join(attributes)

    def value_info(name, dims):
        shape = b"".join(nested(1, integer(1, d) if isinstance(d, int) else text(2, d)) for d in dims)
        return text(1, name) + nested(2, nested(1, integer(1, 1) + nested(2, shape)))

    nodes = [
        node("Conv", ["x", "w", "b"], ["c"], ints("kernel_shape", [3, 3]), ints("pads", [1, 1, 1, 1])),
        node("Relu", ["c"], ["r"]),
        node("MaxPool", ["r"], ["p"], ints("kernel_shape", [2, 2]), ints("strides", [2, 2])),
        node("GlobalAveragePool", ["p"], ["g"]),
        node("Flatten", ["g"], ["f"]),
        node("Gemm", ["f", "fc", "fcb"], ["y"], nested(5, attribute("transB", 2, integer(3, 1)))),
        node("Softmax", ["y"], ["probabilities"]),
    ]
    initializers = [tensor("w", [4, 3, 3, 3], [(i % 7 - 3) / 10 for i in range(108)]), tensor("b", [4], [0.1, 0, -0.1, 0.2]),
                    tensor("fc", [5, 4], [(i % 5) / 5 for i in range(20)]), tensor("fcb", [5], [0] * 5)]
    graph = (b"".join(nested(1, n) for n in nodes) + text(2, "seed") + b"".join(nested(5, t) for t in initializers)
             + nested(11, value_info("x", ["N", 3, 16, 16])) + nested(12, value_info("probabilities", ["N", 5])))
    model = integer(1, 8) + text(2, "make_seeds") + nested(7, graph) + nested(8, integer(2, 17))
    (out / "small.onnx").write_bytes(model)


def main():
    out = Path(sys.argv[1])
    targets = {"image": images, "safetensors": safetensors, "onnx": onnx}
    for name, make in targets.items():
        (out / name).mkdir(parents=True, exist_ok=True)
        make(out / name)
    for name, pattern in [("pytorch-zip", "*.pt"), ("pytorch-legacy", "*.pth")]:
        (out / name).mkdir(parents=True, exist_ok=True)
        for fixture in FIXTURES.glob(pattern):
            shutil.copy(fixture, out / name / fixture.name)
    for directory in sorted(out.iterdir()):
        print(f"{directory.name}: {len(list(directory.iterdir()))} seeds")


if __name__ == "__main__":
    main()
