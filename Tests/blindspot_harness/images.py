"""Images the tests make themselves: PNGs from raw rows, random noise (small and unique, or heavy), a 60-megapixel JPEG."""
import os
import struct
import subprocess
import zlib
from pathlib import Path

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_END = b"IEND\xaeB`\x82"
BIG_SIZE = (10000, 6000)


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png(width, height, idat, color_type=2):
    """A PNG whose header says `width`×`height` (8 bits, `color_type`) around the compressed rows `idat`, as given."""
    header = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return PNG_SIGNATURE + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


def noise_png(rng, width=64, height=48):
    """A valid RGB PNG of random noise from `rng` (random.Random): unique for every call in practice."""
    rows = b"".join(b"\x00" + rng.randbytes(width * 3) for _ in range(height))
    return png(width, height, zlib.compress(rows))


def noisy_png(folder, megabytes):
    """A PNG file of random pixels (they do not compress) a little over `megabytes` MB, within the pixel limits."""
    from PIL import Image

    side = int((megabytes * 1048576 / 3) ** 0.5) + 64
    path = Path(folder) / f"noise-{side}x{side}.png"
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(path, compress_level=1)
    return path


def big_jpeg(folder):
    """A 10000×6000 JPEG file (60 megapixels, over the server's 50), made with the vips command."""
    path = Path(folder) / "big-10000x6000.jpg"
    grey = Path(folder) / "grey.v"
    subprocess.run(["vips", "black", str(grey), str(BIG_SIZE[0]), str(BIG_SIZE[1]), "--bands", "3"], check=True)
    subprocess.run(["vips", "linear", str(grey), f"{path}[Q=80]", "1", "128"], check=True)
    grey.unlink()
    return path
