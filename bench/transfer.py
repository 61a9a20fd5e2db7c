#!/usr/bin/env python3
"""The library's transfer benchmark client (see bench/library.sh): uploads a large video through
the chunked upload API as the browser does (parallel chunk PUTs, each with its SHA-256), makes a
resource of it, downloads it whole, and asks for ranges in its middle, while sampling the
server's RSS. Prints one JSON object.

Usage: transfer.py BASE_URL ACCOUNTS_JSON SERVER_PID FILE [--clients 2]
"""
import hashlib
import http.client
import json
import os
import statistics
import sys
import threading
import time
import urllib.parse

base, accounts_file, pid, path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
clients = int(sys.argv[sys.argv.index("--clients") + 1]) if "--clients" in sys.argv else 2
host = urllib.parse.urlparse(base)
size = os.path.getsize(path)


def rss_mb():
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class Sampler(threading.Thread):
    """The server's largest RSS since it was last reset, sampled every 20 ms."""

    def __init__(self):
        super().__init__(daemon=True)
        self.peak = 0.0
        self.running = True

    def reset(self):
        self.peak = rss_mb()

    def run(self):
        while self.running:
            self.peak = max(self.peak, rss_mb())
            time.sleep(0.02)


def connection():
    return http.client.HTTPConnection(host.hostname, host.port, timeout=600)


def request(conn, method, target, body=None, headers=None):
    h = {"cookie": cookie, "accept": "application/json"}
    if isinstance(body, dict):
        body = json.dumps(body).encode()
        h["content-type"] = "application/json"
    h.update(headers or {})
    conn.request(method, target, body=body, headers=h)
    response = conn.getresponse()
    data = response.read()
    if response.status >= 300:
        raise SystemExit(f"{method} {target}: {response.status} {data[:300]!r}")
    return json.loads(data) if data else None


teacher = next(a for a in json.load(open(accounts_file)) if a["login"] == "teacher01")
conn = connection()
conn.request("POST", "/api/v1/auth/login", body=json.dumps({"login": teacher["login"], "password": teacher["password"]}),
             headers={"content-type": "application/json"})
login = conn.getresponse()
login.read()
cookie = "; ".join(c.split(";")[0] for c in login.headers.get_all("set-cookie"))

sampler = Sampler()
sampler.start()
time.sleep(0.5)
baseline = rss_mb()

# Upload: start, chunks in parallel (each hashed as the browser does), complete.
sampler.reset()
up_started = time.monotonic()
up = request(conn, "POST", "/api/v1/uploads", {"file_name": "课堂实录-勾股定理.mp4", "size": size})
upload_id, chunk = up["id"], up["chunk_size"]
pending = list(range(up["chunks"]))
lock = threading.Lock()


def sender():
    c = connection()
    fd = os.open(path, os.O_RDONLY)
    try:
        while True:
            with lock:
                if not pending:
                    return
                idx = pending.pop(0)
            data = os.pread(fd, chunk, idx * chunk)
            digest = hashlib.sha256(data).hexdigest()
            request(c, "PUT", f"/api/v1/uploads/{upload_id}/chunks/{idx}", data, {"x-chunk-sha256": digest})
    finally:
        os.close(fd)


threads = [threading.Thread(target=sender) for _ in range(clients)]
for t in threads:
    t.start()
for t in threads:
    t.join()
sent = time.monotonic()
request(conn, "POST", f"/api/v1/uploads/{upload_id}/complete", {})
upload_seconds = time.monotonic() - up_started
upload_peak = sampler.peak

metadata = {"upload_id": upload_id, "title": "勾股定理 课堂实录（全程）", "description": "基准测试用的大视频", "stage": "junior", "grade": 2,
            "subject": "math", "resource_type": "lesson-video", "language": "zh", "licence": "platform"}
resource = request(conn, "POST", "/api/v1/resources", metadata)["id"]

# Download: the whole file, read as it streams.
sampler.reset()
started = time.monotonic()
dl = connection()
dl.request("GET", f"/api/v1/resources/{resource}/file?download=true", headers={"cookie": cookie})
response = dl.getresponse()
received = 0
while True:
    block = response.read(1 << 20)
    if not block:
        break
    received += len(block)
download_seconds = time.monotonic() - started
download_peak = sampler.peak
if received != size:
    raise SystemExit(f"downloaded {received} bytes of {size}")

# Ranges in the middle, as a player seeking: time to the first byte of each answer.
first_bytes = []
rc = connection()
for i in range(30):
    offset = size // 2 + i * 7_919_981
    t0 = time.monotonic()
    rc.request("GET", f"/api/v1/resources/{resource}/file", headers={"cookie": cookie, "range": f"bytes={offset}-{offset + 65535}"})
    r = rc.getresponse()
    r.read(1)
    first_bytes.append((time.monotonic() - t0) * 1000)
    if r.status != 206:
        raise SystemExit(f"range answered {r.status}")
    r.read()
sampler.running = False

mb = size / 1e6
print(json.dumps({
    "size_bytes": size,
    "upload_seconds": round(upload_seconds, 2),
    "upload_chunks_seconds": round(sent - up_started, 2),
    "upload_mb_per_s": round(mb / upload_seconds, 1),
    "upload_rss_growth_mb": round(upload_peak - baseline, 1),
    "download_seconds": round(download_seconds, 2),
    "download_mb_per_s": round(mb / download_seconds, 1),
    "download_rss_growth_mb": round(download_peak - baseline, 1),
    "range_first_byte_ms_p50": round(statistics.median(first_bytes), 2),
    "range_first_byte_ms_max": round(max(first_bytes), 2),
    "baseline_rss_mb": round(baseline, 1),
}))
