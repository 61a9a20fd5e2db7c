#!/usr/bin/env bash
# Messaging benchmarks (see "Messaging benchmarks" in bench/README.md). Builds hanlin and the
# example crates/server/examples/messaging_bench.rs in release, then for each backend:
#   1. seeds a school of BENCH_CLASSES (167) classes of BENCH_STUDENTS (59) students and a teacher,
#      so 167 class groups of 60 members (10,020 people), BENCH_PARENTS (10,000) parents of its
#      students and a school administrator, with a session for each written to the database (setup);
#   2. every one of the 10,020 class members opens the WebSocket /api/v1/live (cookie auth), 64
#      handshakes at a time; the server's RSS is read with all of them open and idle, and after a
#      broadcast (one message in every group: every socket gets a frame);
#   3. with the same sockets open, the fan-out run: BENCH_RATE (500) messages/s, all groups together,
#      open loop for BENCH_SECONDS (40) s, each to a 60-member group whose members are all online;
#      every delivery is timed from its send request being issued to the frame reaching the socket;
#   4. the administrator sends notices to the school's 10,000 parents (timed), and the read-receipt
#      summary is timed (200 requests) before and after half of the parents have read the notice.
# A fresh PostgreSQL database (and a fresh SQLite data directory) is made and removed on exit.
#
# Usage: bench/messaging.sh                      (PostgreSQL, then SQLite; ~6 minutes after the build)
#        BENCH_BACKENDS=postgres BENCH_SKIP_BUILD=1 bench/messaging.sh
# Knobs (environment):
#   BENCH_BACKENDS="postgres sqlite"   which backends, in order
#   BENCH_CLASSES=167 BENCH_STUDENTS=59   groups, and students a group (members = students + 1)
#   BENCH_PARENTS=10000                parents in the school (the notice's audience)
#   BENCH_RATE=500 BENCH_SECONDS=40    the fan-out run: messages/s, all groups together, and its length
#   BENCH_EXTRA_RATES="250 100"        further fan-out runs after it, on the same sockets, for reference
#   BENCH_EXTRA_SECONDS=20             their length
#   BENCH_SUMMARY_REQUESTS=200         summary requests per measurement
#   BENCH_NOTICES=3                    notices sent (each timed)
#   BENCH_PG_URL=postgres://postgres@127.0.0.1:5432/postgres   a server to make the database on
#   BENCH_PORT=8091                    where the server listens (127.0.0.1)
#   BENCH_WORK_DIR=/tmp                where the data directories go
#   BENCH_SKIP_BUILD=1                 use the binaries already in $CARGO_TARGET_DIR/release
#   BENCH_QUIET_WAIT=300               seconds to wait for a quiet machine before each measurement
#   BENCH_LOG_DIR=DIR                  keep the server logs, the example's output and the latencies
#   CARGO_TARGET_DIR                   default /work/target

set -Eeuo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=bench/lib.sh
source "$REPO/bench/lib.sh"
BACKENDS="${BENCH_BACKENDS:-postgres sqlite}"
CLASSES="${BENCH_CLASSES:-167}"
STUDENTS="${BENCH_STUDENTS:-59}"
PARENTS="${BENCH_PARENTS:-10000}"
RATE="${BENCH_RATE:-500}"
RUN_SECONDS="${BENCH_SECONDS:-40}"
EXTRA_RATES="${BENCH_EXTRA_RATES-250 100}"
EXTRA_SECONDS="${BENCH_EXTRA_SECONDS:-20}"
SUMMARY_REQUESTS="${BENCH_SUMMARY_REQUESTS:-200}"
NOTICES="${BENCH_NOTICES:-3}"
PG_URL="${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
PORT="${BENCH_PORT:-8091}"
QUIET_WAIT="${BENCH_QUIET_WAIT:-300}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/work/target}"
URL="http://127.0.0.1:$PORT"

say() { printf '%s\n' "$*"; }

WORK="$(mktemp -d "${BENCH_WORK_DIR:-${TMPDIR:-/tmp}}/hanlin-bench-messaging.XXXXXX")"
DATABASE="hanlin_bench_messaging_$$"
SERVER_PID=""
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop_server
    psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $DATABASE WITH (FORCE)" >/dev/null 2>&1 || true
    if [[ -n "${BENCH_LOG_DIR:-}" ]]; then
        mkdir -p "$BENCH_LOG_DIR" && cp -r "$WORK"/logs/. "$BENCH_LOG_DIR"/ 2>/dev/null || true
    fi
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT INT TERM

# Every socket is a file descriptor, in the server and in the load generator alike.
PEOPLE=$((CLASSES * (STUDENTS + 1)))
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if (($(ulimit -n) < PEOPLE + 2000)); then
    say "open files limited to $(ulimit -n) (hard limit $(ulimit -Hn)); $PEOPLE sockets need at least $((PEOPLE + 2000))."
    say "Raise it (e.g. 'ulimit -Hn 65536' as root, or LimitNOFILE) and run again."
    exit 2
fi

if [[ -z "${BENCH_SKIP_BUILD:-}" ]]; then
    say "building hanlin and messaging_bench (release) ..."
    (cd "$REPO" && cargo build --release --quiet -p server --bin hanlin --example messaging_bench)
fi
# Private copies: a rebuild in the shared target directory cannot swap them mid-run.
mkdir -p "$WORK/bin" "$WORK/logs"
cp "$CARGO_TARGET_DIR/release/hanlin" "$WORK/bin/hanlin"
cp "$CARGO_TARGET_DIR/release/examples/messaging_bench" "$WORK/bin/messaging_bench"
BIN="$WORK/bin/hanlin"
BENCH="$WORK/bin/messaging_bench"

# The per-person flood limit (30 messages a minute) is not what is measured here.
export HANLIN_MESSAGING__MESSAGES_PER_MINUTE=100000

start_server() {
    local log="$1"
    "$BIN" serve --listen "127.0.0.1:$PORT" --data-dir "$HANLIN_DATA_DIR" >>"$log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 300); do
        curl -fs "$URL/readyz" >/dev/null 2>&1 && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.2
    done
    say "the server did not become ready; its log:" && tail -20 "$log"
    return 1
}

SUMMARY="$WORK/summary.txt"
: >"$SUMMARY"
say "machine: $(nproc) cores ($(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)), $(free -g | awk '/Mem:/{print $2}') GiB; \
commit $(git -C "$REPO" rev-parse --short HEAD)$(git -C "$REPO" diff --quiet HEAD -- crates migrations 2>/dev/null || echo ' (+ uncommitted changes)'); \
$(date -u '+%Y-%m-%d %H:%M UTC'); open files $(ulimit -n)"
for backend in $BACKENDS; do
    data="$WORK/$backend"
    mkdir -p "$data"
    export HANLIN_DATA_DIR="$data"
    case "$backend" in
        postgres)
            psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $DATABASE WITH (FORCE)" >/dev/null 2>&1
            psql "$PG_URL" -qc "CREATE DATABASE $DATABASE" >/dev/null
            export HANLIN_DATABASE_URL="${PG_URL%/*}/$DATABASE"
            say "" && say "== postgres ($(psql "$PG_URL" -Atc 'SHOW server_version') ; shared_buffers $(psql "$PG_URL" -Atc 'SHOW shared_buffers'), autovacuum $(psql "$PG_URL" -Atc 'SHOW autovacuum')) =="
            ;;
        sqlite)
            unset HANLIN_DATABASE_URL
            say "" && say "== sqlite =="
            ;;
        *) say "unknown backend $backend" && exit 2 ;;
    esac
    out="$WORK/logs/$backend.out"
    "$BENCH" setup --plan "$data/plan.json" --classes "$CLASSES" --students "$STUDENTS" --parents "$PARENTS" | tee -a "$out"
    start_server "$WORK/logs/server-$backend.log"
    extra=()
    rates="$(echo $EXTRA_RATES)"
    [[ -n $rates ]] && extra=(--extra-rates "${rates// /,}" --extra-seconds "$EXTRA_SECONDS")
    wait_quiet
    "$BENCH" live --plan "$data/plan.json" --url "$URL" --server-pid "$SERVER_PID" --rate "$RATE" --seconds "$RUN_SECONDS" \
        --latencies "$WORK/logs/fanout-latencies-$backend.txt" "${extra[@]}" | tee -a "$out"
    # The sockets closed with the load generator; the notice runs against a quiet server.
    wait_quiet
    "$BENCH" notice --plan "$data/plan.json" --url "$URL" --notices "$NOTICES" --requests "$SUMMARY_REQUESTS" | tee -a "$out"
    say "server RSS at the end: $(awk '/VmRSS/{printf "%.0f MiB", $2/1024}' "/proc/$SERVER_PID/status"), peak $(awk '/VmHWM/{printf "%.0f MiB", $2/1024}' "/proc/$SERVER_PID/status")"
    log="$WORK/logs/server-$backend.log"
    if grep -qE 'panicked| ERROR | WARN ' "$log"; then
        say "!! the server logged $(grep -c ' ERROR ' "$log") errors, $(grep -c ' WARN ' "$log") warnings, $(grep -c 'panicked' "$log") panics; the first:"
        grep -E 'panicked| ERROR | WARN ' "$log" | head -5 | cut -c1-300
    fi
    stop_server
    grep -E '^(VERDICT|INFO)' "$out" | sed -E "s/^(VERDICT|INFO) /$backend: /" >>"$SUMMARY"
    rm -rf "$data"
    if [[ $backend == postgres ]]; then
        psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $DATABASE WITH (FORCE)" >/dev/null
    fi
done

say ""
say "== summary (figure, target, verdict) =="
cat "$SUMMARY"
! grep -q 'FAIL$' "$SUMMARY"
