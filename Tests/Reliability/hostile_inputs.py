#!/usr/bin/env python3
"""Hostile uploads against a real `blindspot serve`: every file is made here (nothing is committed), posted to
/api/v1/classify one at a time and then all at once, and must get its documented answer quickly, never a 5xx,
with the server alive and its peak memory under a bound at the end.

    python3 Tests/Reliability/hostile_inputs.py --blindspot .build/release/blindspot --shared ../shared --out .build/test-output/reliability

Prints a table (input, size, status, code, milliseconds) and writes it to OUT/hostile_inputs.json.
"""
import io
import json
import random
import struct
import sys
import time
import urllib.error
import urllib.request
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "EndToEnd"))
from demo_e2e import Server, check, first_photo, passed, run_checks, script_arguments, shared_folder_or_skip  # noqa: E402

from PIL import Image  # noqa: E402

# A refusal must come within this; answers that decode and classify are reported, not bounded.
REFUSAL_MS = 1000
# The server's peak resident memory after the whole corpus (one EfficientNet-Lite0 loaded: ~0.3 GB).
PEAK_RSS_BOUND_MB = 1024


def parse_arguments():
    parser = script_arguments(__doc__, ".build/test-output/reliability", "where the results and the server log go")
    parser.add_argument("--base-url", help="check a server that is already running (no memory check)")
    return parser.parse_args()


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png(width, height, idat, color_type=2):
    header = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


def deflate_bomb():
    """A grayscale PNG of 20000×20000 pixels whose 400 MB of zero rows compress to about 400 kB."""
    side = 20000
    compressor = zlib.compressobj(9)
    row = b"\x00" * (side + 1)
    parts = [compressor.compress(row * 50) for _ in range(side // 50)]
    return png(side, side, b"".join(parts) + compressor.flush(), color_type=0)


def many_frames_gif(frames=5000):
    """A valid 16×16 GIF with `frames` frames (each a tiny LZW block)."""
    out = bytearray(b"GIF89a" + struct.pack("<HHBBB", 16, 16, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff")
    out += b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"
    for index in range(frames):
        out += b"\x21\xf9\x04\x00\x01\x00\x00\x00"  # graphic control: 1/100 s
        out += b"\x2c" + struct.pack("<HHHHB", 0, 0, 16, 16, 0)
        out += b"\x02\x02\x44\x01\x00"  # LZW minimum code size 2, one sub-block: clear, a pixel, end
    out += b"\x3b"
    return bytes(out)


def many_scans_jpeg(image, scans=3000):
    """A progressive JPEG whose last scan is repeated `scans` times: decoders that follow every scan work hard."""
    buffer = io.BytesIO()
    image.resize((64, 48)).save(buffer, "JPEG", progressive=True, quality=90)
    data = buffer.getvalue()
    # Find the last SOS segment (FF DA) and the end of its entropy-coded data (the next marker that is not RST/stuffing).
    last = data.rfind(b"\xff\xda")
    end = data.rfind(b"\xff\xd9")
    scan = data[last:end]
    return data[:end] + scan * scans + data[end:]


def bit_flipped(data, seed, flips=48):
    rng = random.Random(seed)
    flipped = bytearray(data)
    for _ in range(flips):
        position = rng.randrange(min(200, len(data) // 2), len(data))
        flipped[position] ^= 1 << rng.randrange(8)
    return bytes(flipped)


def corpus(photo_path):
    """(name, bytes, content type, statuses that are right for it)."""
    photo = photo_path.read_bytes()
    image = Image.open(photo_path).convert("RGB")

    def encoded(kind, **options):
        buffer = io.BytesIO()
        image.save(buffer, kind, **options)
        return buffer.getvalue()

    formats = {"JPEG": photo, "PNG": encoded("PNG"), "WebP": encoded("WEBP", quality=80), "GIF": encoded("GIF")}
    rows = []
    for name, data in formats.items():
        rows.append((f"truncated {name} (half)", data[: len(data) // 2], "image/jpeg", {400}))
        # Flipped bits may still decode (JPEG resynchronises, GIF has no checksum): a clear answer, never a 5xx.
        rows.append((f"bit-flipped {name}", bit_flipped(data, seed=len(rows)), "image/jpeg", {200, 400}))
    rows += [
        ("PNG header declaring 100000×100000", png(100000, 100000, zlib.compress(b"\x00" * 64)), "image/png", {422}),
        ("deflate bomb PNG (20000×20000, 400 MB inflated)", deflate_bomb(), "image/png", {422}),
        ("GIF with 5000 frames (first frame used)", many_frames_gif(), "image/gif", {200}),
        ("progressive JPEG with 3000 scans", many_scans_jpeg(image), "image/jpeg", {200, 400}),
        ("SVG renamed .jpg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "image/jpeg", {415}),
        ("HTML renamed .jpg", b"<!DOCTYPE html><html><body><img src=x onerror=alert(1)></body></html>", "image/jpeg", {415}),
        ("PDF renamed .jpg", b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n", "image/jpeg", {415}),
        ("polyglot: JPEG magic then PDF", b"\xff\xd8\xff\xe0" + b"%PDF-1.4 " * 100, "image/jpeg", {400}),
        ("polyglot: JPEG with HTML after its end", photo + b"<html><script>alert(1)</script></html>", "image/jpeg", {200}),
        ("zero bytes", b"", "image/jpeg", {400}),
        ("50 MB of random bytes", random.Random(7).randbytes(50 * 1024 * 1024), "image/jpeg", {413}),
    ]
    return rows


def post(base_url, data, content_type):
    request = urllib.request.Request(f"{base_url}/api/v1/classify?top=1", data=data, method="POST",
                                     headers={"Content-Type": content_type})
    start = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read()
    except (ConnectionError, urllib.error.URLError) as error:
        # The server may answer 413 and close before reading a huge body; the answer is what counts.
        return None, f"connection: {error}", (time.monotonic() - start) * 1000
    milliseconds = (time.monotonic() - start) * 1000
    try:
        code = json.loads(body).get("error", {}).get("code", "") if status != 200 else "ok"
    except ValueError:
        code = f"(not JSON: {body[:60]!r})"
    return status, code, milliseconds


def peak_rss_mb(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


def run(base_url, photo, server, out):
    rows = corpus(photo)
    results = []
    print(f"{'input':52} {'bytes':>10} {'status':>6}  {'code':20} {'ms':>8}")
    for name, data, content_type, expected in rows:
        status, code, milliseconds = post(base_url, data, content_type)
        results.append({"input": name, "bytes": len(data), "status": status, "code": code, "ms": round(milliseconds, 1)})
        print(f"{name:52} {len(data):>10} {status!s:>6}  {code:20} {milliseconds:>8.1f}", flush=True)
        check(status in expected, f"{name}: status {status} ({code}) is one of {sorted(expected)}")
        if status is not None and status >= 400:
            check(milliseconds < REFUSAL_MS, f"{name}: refused in {milliseconds:.0f} ms (< {REFUSAL_MS})")
    # Everything at once, 8 at a time: still no 5xx and no crash.
    with ThreadPoolExecutor(8) as pool:
        together = list(pool.map(lambda row: post(base_url, row[1], row[2]), rows * 2))
    statuses = [status for status, _, _ in together]
    check(all(status is not None and status < 500 for status in statuses if status is not None),
          f"all {len(statuses)} concurrent hostile requests answered below 500: {sorted(set(map(str, statuses)))}")
    with urllib.request.urlopen(f"{base_url}/healthz", timeout=5) as response:
        check(response.status == 200, "/healthz answers 200 after the corpus")
    summary = {"rows": results, "concurrent_statuses": {str(s): statuses.count(s) for s in set(statuses)}}
    if server:
        server.check_survived()
        peak = peak_rss_mb(server.process.pid)
        summary["peak_rss_mb"] = peak
        check(peak is not None and peak < PEAK_RSS_BOUND_MB, f"the server's peak RSS is {peak:.0f} MB (< {PEAK_RSS_BOUND_MB} MB)")
    (Path(out) / "hostile_inputs.json").write_text(json.dumps(summary, indent=1))
    passed(f"{len(rows)} hostile inputs answered as documented")


def main():
    arguments = parse_arguments()
    shared = shared_folder_or_skip(arguments)
    if shared is None:
        return 0
    out = Path(arguments.out)
    server = None if arguments.base_url else Server(arguments.blindspot, shared, arguments.model, out,
                                                    arguments=("--rate-limit", "0"))
    base_url = arguments.base_url.rstrip("/") if arguments.base_url else server.base_url
    return run_checks(lambda: run(base_url, first_photo(shared), server, out), server)


if __name__ == "__main__":
    sys.exit(main())
