#!/usr/bin/env bash
# Transfer benchmark of the resource library (see "Library benchmarks" in bench/README.md):
# builds the release binary, starts `hanlin demo` on SQLite and local files, and with
# bench/transfer.py
#   1. uploads a BENCH_FILE_MB (2048) MiB video through the chunked API as the browser does
#      (BENCH_CLIENTS parallel 8 MiB chunk PUTs, each with its SHA-256, then complete, which
#      assembles and hashes the whole file): MB/s, and the server's RSS growth;
#   2. downloads it whole: MB/s and RSS growth;
#   3. asks 30 times for 64 KiB in its middle (Range), as a player seeking: time to first byte.
# Prints each figure next to its target. Runs on 127.0.0.1; the server and temporary files are
# removed on exit.
#
# Usage: bench/library.sh
# Knobs: BENCH_FILE_MB=2048  BENCH_CLIENTS=2  BENCH_SKIP_BUILD=1  BENCH_PORT=18680  BENCH_TMP=/tmp
#        CARGO_TARGET_DIR (default /work/target)

set -Eeuo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FILE_MB="${BENCH_FILE_MB:-2048}"
CLIENTS="${BENCH_CLIENTS:-2}"
PORT="${BENCH_PORT:-18680}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/work/target}"
WORK="$(mktemp -d "${BENCH_TMP:-/tmp}/hanlin-bench-library.XXXXXX")"
SERVER_PID=""

cleanup() {
  [[ -n $SERVER_PID ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

if [[ -z ${BENCH_SKIP_BUILD:-} ]]; then
  echo "building hanlin (release) …"
  cargo build --release -q -p server --manifest-path "$REPO/Cargo.toml"
fi
cp "$CARGO_TARGET_DIR/release/hanlin" "$WORK/hanlin"

echo "writing a ${FILE_MB} MiB video file …"
python3 - "$WORK/video.mp4" "$FILE_MB" <<'PY'
import os, sys
path, mb = sys.argv[1], int(sys.argv[2])
with open(path, "wb") as f:
    # An ISO media file's ftyp box, then incompressible bytes.
    f.write(b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2mp41")
    block = os.urandom(8 << 20)
    written = 32
    while written < mb << 20:
        n = min(len(block), (mb << 20) - written)
        f.write(block[:n])
        written += n
        block = block[1:] + block[:1]
PY

"$WORK/hanlin" demo --data-dir "$WORK/data" --listen "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 300); do
  curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null || { cat "$WORK/server.log"; exit 1; }

echo "measuring …"
OUT="$(python3 "$REPO/bench/transfer.py" "http://127.0.0.1:$PORT" "$WORK/data/demo-accounts.json" "$SERVER_PID" "$WORK/video.mp4" --clients "$CLIENTS")"
echo "$OUT"

python3 - "$OUT" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
def line(name, value, unit, target, ok):
    print(f"{name:<34} {value:>10} {unit:<5} target {target:<10} {'PASS' if ok else 'FAIL'}")
print()
line("upload (chunked, hashed, assembled)", r["upload_mb_per_s"], "MB/s", ">= 150", r["upload_mb_per_s"] >= 150)
line("  server RSS growth", r["upload_rss_growth_mb"], "MB", "<= 64", r["upload_rss_growth_mb"] <= 64)
line("download", r["download_mb_per_s"], "MB/s", ">= 150", r["download_mb_per_s"] >= 150)
line("  server RSS growth", r["download_rss_growth_mb"], "MB", "<= 64", r["download_rss_growth_mb"] <= 64)
line("range in the middle, first byte p50", r["range_first_byte_ms_p50"], "ms", "<= 20", r["range_first_byte_ms_p50"] <= 20)
line("range in the middle, first byte max", r["range_first_byte_ms_max"], "ms", "<= 20", r["range_first_byte_ms_max"] <= 20)
PY
