"""Hostile uploads against a real `blindspot serve`: every file is made here, posted to /api/v1/classify one at a time
and then all at once; each gets its documented answer quickly, never a 5xx, and the server's peak memory stays bounded.
The table of answers goes to OUT/hostile_inputs.json."""
import io
import random
import struct
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from blindspot_harness.api import call, post
from blindspot_harness.images import png
from blindspot_harness.paths import first_photo
from blindspot_harness.results import table, write_summary
from blindspot_harness.server import RunningServer

# A refusal must come within this; answers that decode and classify are reported, not bounded.
REFUSAL_MS = 1000
# The server's peak resident memory after the whole corpus (one EfficientNet-Lite0 loaded: ~0.3 GB).
PEAK_RSS_BOUND_MB = 1024


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
    for _ in range(frames):
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
    # The last SOS segment (FF DA) up to the end of image (FF D9).
    last, end = data.rfind(b"\xff\xda"), data.rfind(b"\xff\xd9")
    return data[:end] + data[last:end] * scans + data[end:]


def bit_flipped(data, seed, flips=48):
    rng = random.Random(seed)
    flipped = bytearray(data)
    for _ in range(flips):
        flipped[rng.randrange(min(200, len(data) // 2), len(data))] ^= 1 << rng.randrange(8)
    return bytes(flipped)


def encoded(image, kind, **options):
    buffer = io.BytesIO()
    image.save(buffer, kind, **options)
    return buffer.getvalue()


FORMATS = {"JPEG": lambda photo, image: photo, "PNG": lambda photo, image: encoded(image, "PNG"),
           "WebP": lambda photo, image: encoded(image, "WEBP", quality=80), "GIF": lambda photo, image: encoded(image, "GIF")}
# (name, maker(photo bytes, PIL image, index) -> bytes, content type, statuses that are right for it).
CORPUS = []
for kind, encode in FORMATS.items():
    CORPUS.append((f"truncated {kind} (half)", lambda photo, image, index, encode=encode: encode(photo, image)[: len(encode(photo, image)) // 2],
                   "image/jpeg", {400}))
    # Flipped bits may still decode (JPEG resynchronises, GIF has no checksum): a clear answer, never a 5xx.
    CORPUS.append((f"bit-flipped {kind}", lambda photo, image, index, encode=encode: bit_flipped(encode(photo, image), seed=index),
                   "image/jpeg", {200, 400}))
CORPUS += [
    ("PNG header declaring 100000×100000", lambda *_: png(100000, 100000, zlib.compress(b"\x00" * 64)), "image/png", {422}),
    ("deflate bomb PNG (20000×20000, 400 MB inflated)", lambda *_: deflate_bomb(), "image/png", {422}),
    ("GIF with 5000 frames (first frame used)", lambda *_: many_frames_gif(), "image/gif", {200}),
    ("progressive JPEG with 3000 scans", lambda photo, image, index: many_scans_jpeg(image), "image/jpeg", {200, 400}),
    ("SVG renamed .jpg", lambda *_: b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "image/jpeg", {415}),
    ("HTML renamed .jpg", lambda *_: b"<!DOCTYPE html><html><body><img src=x onerror=alert(1)></body></html>", "image/jpeg", {415}),
    ("PDF renamed .jpg", lambda *_: b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n", "image/jpeg", {415}),
    ("polyglot: JPEG magic then PDF", lambda *_: b"\xff\xd8\xff\xe0" + b"%PDF-1.4 " * 100, "image/jpeg", {400}),
    ("polyglot: JPEG with HTML after its end", lambda photo, *_: photo + b"<html><script>alert(1)</script></html>", "image/jpeg", {200}),
    ("zero bytes", lambda *_: b"", "image/jpeg", {400}),
    ("50 MB of random bytes", lambda *_: random.Random(7).randbytes(50 * 1024 * 1024), "image/jpeg", {413}),
]


@pytest.fixture(scope="module")
def server(serve, option):
    if option.base_url:
        yield RunningServer(option.base_url)
        return
    with serve("hostile-inputs", ["--rate-limit", "0"]) as server:
        yield server


@pytest.fixture(scope="module")
def payloads(shared):
    """The corpus's bytes, by index."""
    from PIL import Image

    photo_path = first_photo(shared)
    photo, image = photo_path.read_bytes(), Image.open(photo_path).convert("RGB")
    return [make(photo, image, index) for index, (_, make, _, _) in enumerate(CORPUS)]


@pytest.fixture(scope="module")
def answers(out):
    """The answers, one row an input, written to OUT/hostile_inputs.json and printed as a table at the end."""
    summary = {"rows": []}
    yield summary
    write_summary(out / "hostile_inputs.json", summary, "hostile inputs",
                  table(summary["rows"], [("input", "input", 52), ("bytes", "bytes", -10), ("status", "status", -6), ("code", "code", 20), ("ms", "ms", -8)])
                  + f"\nconcurrent: {summary.get('concurrent_statuses')}; peak RSS {summary.get('peak_rss_mb')} MB")


def classify(server, data, content_type):
    """(status or None when the connection was lost, error code, milliseconds). The server may answer 413 and close
    before reading a huge body; the answer is what counts."""
    try:
        answer = post(server.base_url, "/api/v1/classify?top=1", data, content_type)
    except OSError as error:
        return None, f"connection: {error}", None
    return answer.status, "ok" if answer.status == 200 else answer.code, answer.seconds * 1000


@pytest.mark.parametrize("index", range(len(CORPUS)), ids=[name for name, *_ in CORPUS])
def test_hostile_input_gets_its_documented_answer(server, payloads, answers, index):
    name, _, content_type, expected = CORPUS[index]
    status, code, milliseconds = classify(server, payloads[index], content_type)
    answers["rows"].append({"input": name, "bytes": len(payloads[index]), "status": status, "code": code,
                            "ms": None if milliseconds is None else round(milliseconds, 1)})
    assert status in expected, f"{name}: status {status} ({code}) is one of {sorted(expected)}"
    if status >= 400:
        assert milliseconds < REFUSAL_MS, f"{name}: refused in {milliseconds:.0f} ms (< {REFUSAL_MS})"


def test_all_at_once_nothing_answers_5xx(server, payloads, answers):
    """Every input twice, 8 at a time."""
    with ThreadPoolExecutor(8) as pool:
        together = list(pool.map(lambda index: classify(server, payloads[index], CORPUS[index][2])[0], list(range(len(CORPUS))) * 2))
    answers["concurrent_statuses"] = {str(status): together.count(status) for status in set(together)}
    assert all(status is None or status < 500 for status in together), \
        f"all {len(together)} concurrent hostile requests answered below 500 ({answers['concurrent_statuses']})"
    status = call(server.base_url, "/healthz", timeout=5).status
    assert status == 200, f"/healthz answers {status} after the corpus"


def test_peak_memory_is_bounded(server, answers):
    if server.process is None:
        pytest.skip("a server already running (--base-url): its memory is not measured")
    server.check_survived()
    status = Path(f"/proc/{server.process.pid}/status").read_text().splitlines()
    peak = next((int(line.split()[1]) / 1024 for line in status if line.startswith("VmHWM:")), None)
    answers["peak_rss_mb"] = None if peak is None else round(peak)
    assert peak is not None and peak < PEAK_RSS_BOUND_MB, f"the server's peak RSS is {peak:.0f} MB (< {PEAK_RSS_BOUND_MB} MB)"
