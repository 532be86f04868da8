#!/usr/bin/env python3
"""Load test for `blindspot serve`: N clients, each on its own keep-alive connection, post one image to
/api/v1/classify for a fixed time; prints requests/s, latency percentiles, statuses, and the batch sizes the
server's /metrics recorded during the run. With --reports DIR, they file reports to /api/v1/blindspots instead,
each a new (photo of DIR, class) pair, to measure how many reports per second the catalog sustains.

    python3 scripts/loadtest.py --url http://127.0.0.1:8080 --model efficientnet_lite0 --image photo.jpg --clients 16 --seconds 20
    python3 scripts/loadtest.py --url http://127.0.0.1:8080 --model efficientnet_lite0 --reports ../shared/imagenet-sample --seconds 20
"""
import argparse
import http.client
import itertools
import json
import pathlib
import re
import statistics
import threading
import time
import urllib.parse
import urllib.request


def batch_histogram(base_url, model):
    """Batch-size bucket counts (cumulative, by upper bound) for `model` from /metrics."""
    with urllib.request.urlopen(f"{base_url}/metrics", timeout=10) as response:
        text = response.read().decode()
    buckets = {}
    pattern = re.compile(r'blindspot_batch_size_images_bucket\{model="%s",le="([^"]+)"\} (\d+)' % re.escape(model))
    for bound, count in pattern.findall(text):
        buckets[float(bound)] = int(count)
    return buckets


def report_requests(photos, client, clients):
    """Endless (path, body, content type) for new reports: photo i with class c, never the same pair twice."""
    for number in itertools.count(client, clients):
        photo, expected = photos[number % len(photos)], (number // len(photos)) % 1000
        boundary = f"loadtest{number}"
        body = (f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="photo"\r\n\r\n'.encode() + photo
                + f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="expected"\r\n\r\n{expected}\r\n'.encode()
                + f'--{boundary}\r\nContent-Disposition: form-data; name="note"\r\n\r\nload test {number}\r\n--{boundary}--\r\n'.encode())
        yield "/api/v1/blindspots", body, f"multipart/form-data; boundary={boundary}"


def client_loop(host, port, requests, stop_at, results, lock):
    connection = http.client.HTTPConnection(host, port, timeout=60)
    mine = []
    while time.monotonic() < stop_at:
        path, body, content_type = next(requests)
        start = time.monotonic()
        try:
            connection.request("POST", path, body=body, headers={"Content-Type": content_type})
            response = connection.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            status = "connection error"
            connection.close()
            connection = http.client.HTTPConnection(host, port, timeout=60)
        mine.append((status, time.monotonic() - start))
    connection.close()
    with lock:
        results.extend(mine)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8080")
    parser.add_argument("--model", required=True)
    parser.add_argument("--image", help="the image to classify")
    parser.add_argument("--reports", metavar="DIR", help="file new reports made of DIR's photos instead of classifying --image")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    arguments = parser.parse_args()

    parsed = urllib.parse.urlparse(arguments.url)
    if arguments.reports:
        photos = [path.read_bytes() for path in sorted(pathlib.Path(arguments.reports).iterdir()) if path.is_file()]
        streams = [report_requests(photos, client, arguments.clients) for client in range(arguments.clients)]
    elif arguments.image:
        body = open(arguments.image, "rb").read()
        content_type = "image/png" if body.startswith(b"\x89PNG") else "image/jpeg"
        path = f"/api/v1/classify?model={urllib.parse.quote(arguments.model)}&top=5"
        streams = [itertools.repeat((path, body, content_type)) for _ in range(arguments.clients)]
    else:
        parser.error("give --image or --reports")
    before = batch_histogram(arguments.url, arguments.model)
    results, lock = [], threading.Lock()
    started = time.monotonic()
    stop_at = started + arguments.seconds
    threads = [threading.Thread(target=client_loop, args=(parsed.hostname, parsed.port or 80, stream, stop_at, results, lock))
               for stream in streams]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    after = batch_histogram(arguments.url, arguments.model)

    latencies = sorted(seconds * 1000 for status, seconds in results if status in (200, 201))
    statuses = {}
    for status, _ in results:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    batches = {bound: after.get(bound, 0) - before.get(bound, 0) for bound in after}
    bounds = sorted(batches)
    per_size = {bound: batches[bound] - (batches[bounds[i - 1]] if i else 0) for i, bound in enumerate(bounds)}
    largest = max((bound for bound, count in per_size.items() if count > 0 and bound != float("inf")), default=0)

    def percentile(fraction):
        return latencies[min(len(latencies) - 1, int(fraction * len(latencies)))] if latencies else float("nan")

    summary = {
        "model": arguments.model, "clients": arguments.clients, "seconds": round(elapsed, 2),
        "requests": len(results), "statuses": statuses,
        "requestsPerSecond": round(len(latencies) / elapsed, 2),
        "latencyMs": {"p50": round(percentile(0.50), 1), "p90": round(percentile(0.90), 1), "p99": round(percentile(0.99), 1),
                      "mean": round(statistics.fmean(latencies), 1) if latencies else None},
        "batches": {str(int(bound)) if bound != float("inf") else "+Inf": count for bound, count in per_size.items() if count},
        "largestBatch": int(largest),
    }
    if arguments.json:
        print(json.dumps(summary))
    else:
        print(f"{summary['model']}: {summary['clients']} clients for {summary['seconds']} s: {summary['requests']} requests {statuses}")
        print(f"  {summary['requestsPerSecond']} requests/s; latency p50 {summary['latencyMs']['p50']} ms, "
              f"p90 {summary['latencyMs']['p90']} ms, p99 {summary['latencyMs']['p99']} ms")
        print(f"  batches by size (upper bucket bound: count) {summary['batches']}; largest batch {summary['largestBatch']}")


if __name__ == "__main__":
    main()
