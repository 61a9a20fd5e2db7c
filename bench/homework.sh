#!/usr/bin/env bash
# Homework benchmarks of issue #5 (see "Homework benchmarks" in bench/README.md). Builds hanlin and
# the example crates/server/examples/homework_rush.rs in release, then for each backend:
#   1. seeds a school of classes of 60 students, each with 30 homework to hand in (setup);
#   2. a deadline rush: BENCH_RATE (1,000) hand-ins/s for BENCH_SECONDS (60) s, each 1 KB of text
#      and a 200 KB photo (every photo different), open loop through the HTTP API: hand-ins/s
#      and p50/p99 latency counted from each hand-in's turn in the schedule; then every
#      acknowledged hand-in is checked in the database and in storage;
#   3. the marking page and the statistics page of a 60-student class: p50/p99, 1 and 8 clients;
#   4. the same rush again (other homework) while the server is killed with SIGKILL and restarted
#      BENCH_KILLS (20) times; clients resend unanswered hand-ins with the same idempotency key;
#      then every acknowledged hand-in is checked: none may be lost.
# A fresh PostgreSQL database (and a fresh SQLite data directory) is made and removed on exit.
#
# Usage: bench/homework.sh                      (PostgreSQL, then SQLite; about 15 minutes)
#        BENCH_BACKENDS=postgres bench/homework.sh
# Knobs (environment):
#   BENCH_BACKENDS="postgres sqlite"   which backends, in order
#   BENCH_RATE=1000                    hand-ins/s of the rushes
#   BENCH_SECONDS=60                   seconds of each rush
#   BENCH_KILLS=20                     SIGKILL restarts during the second rush (0: skip that rush)
#   BENCH_KILL_RATE=$BENCH_RATE        hand-ins/s of the second rush
#   BENCH_CONCURRENCY=256              hand-ins in flight at most
#   BENCH_PG_URL=postgres://postgres@127.0.0.1:5432/postgres   a server to make the database on
#   BENCH_PORT=8090                    where the server listens
#   BENCH_WORK_DIR=/tmp                where the data directories go (a rush writes ~12 GB of photos)
#   BENCH_SKIP_BUILD=1                 use the binaries already in $CARGO_TARGET_DIR/release
#   BENCH_QUIET_WAIT=300               seconds to wait for a quiet machine before each rush
#   CARGO_TARGET_DIR                   default /work/target

set -Eeuo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BACKENDS="${BENCH_BACKENDS:-postgres sqlite}"
RATE="${BENCH_RATE:-1000}"
RUN_SECONDS="${BENCH_SECONDS:-60}"
KILLS="${BENCH_KILLS:-20}"
KILL_RATE="${BENCH_KILL_RATE:-$RATE}"
CONCURRENCY="${BENCH_CONCURRENCY:-256}"
PG_URL="${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
PORT="${BENCH_PORT:-8090}"
QUIET_WAIT="${BENCH_QUIET_WAIT:-300}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/work/target}"
BIN="$CARGO_TARGET_DIR/release/hanlin"
RUSH="$CARGO_TARGET_DIR/release/examples/homework_rush"

say() { printf '%s\n' "$*"; }
busy() { awk '/^cpu /{print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
# shellcheck source=bench/lib.sh
source "$REPO/bench/lib.sh"

WORK="$(mktemp -d "${BENCH_WORK_DIR:-${TMPDIR:-/tmp}}/hanlin-bench-homework.XXXXXX")"
DATABASE="hanlin_bench_homework_$$"
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    pkill -9 -f "$BIN serve --listen 127.0.0.1:$PORT" 2>/dev/null || true
    psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $DATABASE WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT INT TERM

if [[ -z "${BENCH_SKIP_BUILD:-}" ]]; then
    say "building hanlin and homework_rush (release) ..."
    (cd "$REPO" && cargo build --release --quiet -p server --bin hanlin --example homework_rush)
fi

# Hand-ins needed: one rush, and the second one during the restarts.
NEEDED=$((RATE * RUN_SECONDS))
((KILLS > 0)) && NEEDED=$((NEEDED + KILL_RATE * RUN_SECONDS))
CLASSES=$(((NEEDED + 60 * 30 - 1) / (60 * 30)))
SERVER="$BIN serve --listen 127.0.0.1:$PORT"
URL="http://127.0.0.1:$PORT"

say "machine: $(nproc) cores ($(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)), $(free -g | awk '/Mem:/{print $2}') GiB; commit $(git -C "$REPO" rev-parse --short HEAD)"
for backend in $BACKENDS; do
    data="$WORK/$backend"
    mkdir -p "$data"
    export HANLIN_DATA_DIR="$data"
    case "$backend" in
        postgres)
            psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $DATABASE WITH (FORCE)" >/dev/null
            psql "$PG_URL" -qc "CREATE DATABASE $DATABASE" >/dev/null
            export HANLIN_DATABASE_URL="${PG_URL%/*}/$DATABASE"
            ;;
        sqlite) unset HANLIN_DATABASE_URL ;;
        *) say "unknown backend $backend" && exit 2 ;;
    esac
    say ""
    say "== $backend =="
    "$RUSH" setup --plan "$data/plan.json" --classes "$CLASSES" --students 60 --homework 30
    wait_quiet
    busy_before=$(busy)
    "$RUSH" rush --plan "$data/plan.json" --acks "$data/acks-1.jsonl" --url "$URL" --rate "$RATE" \
        --seconds "$RUN_SECONDS" --concurrency "$CONCURRENCY" --server "$SERVER"
    busy_after=$(busy)
    # Server, database and this load generator together: what one hand-in costs the machine.
    awk -v b="$((busy_after - busy_before))" -v n="$(wc -l <"$data/acks-1.jsonl")" -v hz="$(getconf CLK_TCK)" -v cores="$(nproc)" \
        'BEGIN { if (n > 0) printf "machine CPU: %.2f ms per acknowledged hand-in (all processes): at most %.0f hand-ins/s on %d cores\n", b * 1000 / hz / n, n * cores * hz / b, cores }'
    "$RUSH" verify --acks "$data/acks-1.jsonl"
    $SERVER >/dev/null 2>&1 &
    server_pid=$!
    for _ in $(seq 1 100); do curl -fs "$URL/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
    "$RUSH" marking --plan "$data/plan.json" --url "$URL" --seconds 15 --clients 1
    "$RUSH" marking --plan "$data/plan.json" --url "$URL" --seconds 15 --clients 8
    kill "$server_pid" && wait "$server_pid" 2>/dev/null || true
    if ((KILLS > 0)); then
        wait_quiet
        "$RUSH" rush --plan "$data/plan.json" --acks "$data/acks-2.jsonl" --url "$URL" --rate "$KILL_RATE" \
            --seconds "$RUN_SECONDS" --concurrency "$CONCURRENCY" --server "$SERVER" --kills "$KILLS" \
            --offset $((RATE * RUN_SECONDS))
        "$RUSH" verify --acks "$data/acks-2.jsonl"
    fi
    rm -rf "$data"
    if [[ $backend == postgres ]]; then
        psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $DATABASE WITH (FORCE)" >/dev/null
    fi
done
