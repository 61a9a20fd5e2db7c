#!/usr/bin/env bash
# Benchmarks of the platform core (see bench/README.md): builds the release binary, then for each
# backend (SQLite, PostgreSQL) measures
#   1. session-authenticated GET /api/v1/me at 64 connections (requests/s, p99);
#   2. password logins with 200 clients hammering POST /api/v1/auth/login (successful logins/s,
#      429 count), and the p99 of a paced GET /api/v1/me probe running meanwhile;
#   3. `hanlin demo` from an empty data directory (and, for PostgreSQL, an empty database) to the
#      first 200 from /healthz.
# and prints a summary against the targets. Everything runs on 127.0.0.1; servers, databases and
# temporary files it creates are removed on exit, also on failure or Ctrl-C.
#
# Usage: bench/core.sh            (from anywhere; about 7 minutes plus the build)
# Knobs (environment):
#   BENCH_BACKENDS="sqlite postgres"  which backends to run
#   BENCH_DURATION=20                 seconds per measured wrk run
#   BENCH_REPS=3                      repetitions of the /me and login runs and of the start-up
#   BENCH_SKIP_BUILD=1                use the existing $CARGO_TARGET_DIR/release/hanlin
#   BENCH_PORT=18480                  first port to try (127.0.0.1 only)
#   BENCH_PGPORT=5432 BENCH_PGUSER=postgres   PostgreSQL at 127.0.0.1 (trust auth); a fresh
#                                     database hanlin_bench_<pid>_<n> is created and dropped
#   BENCH_LOG_DIR=DIR                 keep the raw wrk and server output in DIR
#   CARGO_TARGET_DIR                  default /work/target

set -Eeuo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=bench/lib.sh
source "$REPO/bench/lib.sh"
BACKENDS="${BENCH_BACKENDS:-sqlite postgres}"
DURATION="${BENCH_DURATION:-20}"
REPS="${BENCH_REPS:-3}"
PORT="${BENCH_PORT:-18480}"
PGPORT_="${BENCH_PGPORT:-5432}"
PGUSER_="${BENCH_PGUSER:-postgres}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/work/target}"
HOST=127.0.0.1

# Targets of the issue.
T_ME_RPS=20000     # GET /api/v1/me requests/s at 64 connections, at least
T_ME_P99=10        # ... with p99 at most (ms)
T_LOGIN_RPS=45     # successful logins/s with 200 clients, at least
T_PROBE_P99=50     # GET /api/v1/me p99 during the login flood, at most (ms)
T_STARTUP=10       # demo start-up to /healthz, at most (s)

ME_CONNS=64
ME_SESSIONS=64     # one session per connection: 64 signed-in people
LOGIN_CONNS=200
PROBE_CONNS=16     # the paced /me probe during the login flood ...
PROBE_DELAY_MS=10  # ... each connection waits 10 ms between requests (about 1,400 requests/s)

# ---------------------------------------------------------------- clean-up, whatever happens
WORK="$(mktemp -d /tmp/hanlin-bench.XXXXXX)"
SERVER_PID=""
BG_PIDS=()
DATABASES=()


drop_database() {
    dropdb -h "$HOST" -p "$PGPORT_" -U "$PGUSER_" --if-exists --force "$1" >/dev/null 2>&1 || true
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    for p in "${BG_PIDS[@]}"; do
        pkill -P "$p" 2>/dev/null || true   # the wrk it runs
        kill "$p" 2>/dev/null || true
    done
    stop_server
    for d in "${DATABASES[@]}"; do drop_database "$d"; done
    if [[ -n "${BENCH_LOG_DIR:-}" ]]; then
        mkdir -p "$BENCH_LOG_DIR" && cp -r "$WORK"/logs/. "$BENCH_LOG_DIR"/ 2>/dev/null || true
    fi
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
trap 'echo "core.sh: failed at line $LINENO: $BASH_COMMAND" >&2' ERR

mkdir -p "$WORK/logs"
say() { printf '%s\n' "$*"; }
die() { say "core.sh: $*" >&2; exit 1; }

# ---------------------------------------------------------------- prerequisites
for tool in wrk curl jq awk; do
    command -v "$tool" >/dev/null || die "$tool is missing (Debian: apt-get install -y wrk curl jq)"
done
if [[ " $BACKENDS " == *" postgres "* ]]; then
    for tool in createdb dropdb psql; do command -v "$tool" >/dev/null || die "$tool is missing (postgresql-client)"; done
    psql -h "$HOST" -p "$PGPORT_" -U "$PGUSER_" -d postgres -Atc "SELECT 1" >/dev/null \
        || die "PostgreSQL does not answer at $HOST:$PGPORT_ as $PGUSER_"
fi
TIME_BIN=""
[[ -x /usr/bin/time ]] && TIME_BIN=/usr/bin/time

# ---------------------------------------------------------------- build
if [[ -z "${BENCH_SKIP_BUILD:-}" ]]; then
    say "== building: cargo build --release -p server (CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
    if ! (cd "$REPO" && cargo build --release -p server) >"$WORK/logs/build.log" 2>&1; then
        tail -n 40 "$WORK/logs/build.log" >&2
        die "the release build failed"
    fi
    tail -n 1 "$WORK/logs/build.log"
fi
[[ -x "$CARGO_TARGET_DIR/release/hanlin" ]] || die "no binary at $CARGO_TARGET_DIR/release/hanlin"
# A private copy: a concurrent rebuild of the shared target directory cannot swap it mid-run.
BIN="$WORK/hanlin"
cp "$CARGO_TARGET_DIR/release/hanlin" "$BIN"

COMMIT="$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)"
DIRTY="$(git -C "$REPO" status --porcelain --untracked-files=no 2>/dev/null | wc -l)"
say "== machine: $(nproc) cores, $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n1), $(free -h | awk '/^Mem:/{print $2}') RAM, kernel $(uname -r)"
say "== commit $COMMIT$([[ $DIRTY != 0 ]] && echo " (+$DIRTY modified tracked files)"), $(date -u +%Y-%m-%dT%H:%M:%SZ), load average $(cut -d' ' -f1-3 /proc/loadavg)"

# ---------------------------------------------------------------- helpers
port_free() { ! (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }
while ! port_free "$PORT"; do PORT=$((PORT + 1)); done
URL="http://$HOST:$PORT"

now_ns() { date +%s%N; }

# Starts `hanlin demo` for backend $1 on a fresh data dir (and database), waits for /healthz;
# sets STARTUP_S to the seconds from launch to the first 200. (Not run in $(…): the server must be
# a child of this shell, and SERVER_PID, DATA_DIR, CURRENT_DB must stay set.)
DBSEQ=0
start_demo() {
    local backend=$1 tag=$2 dir="$WORK/data-$1-$2" db_url=""
    rm -rf "$dir"
    if [[ $backend == postgres ]]; then
        DBSEQ=$((DBSEQ + 1))
        local db="hanlin_bench_$$_$DBSEQ"
        DATABASES+=("$db")
        createdb -h "$HOST" -p "$PGPORT_" -U "$PGUSER_" "$db"
        db_url="postgres://$PGUSER_@$HOST:$PGPORT_/$db"
        CURRENT_DB="$db"
    fi
    DATA_DIR="$dir"
    local t0; t0=$(now_ns)
    if [[ -n $db_url ]]; then
        HANLIN_DATABASE_URL="$db_url" "$BIN" demo --data-dir "$dir" --listen "$HOST:$PORT" >"$WORK/logs/server-$backend-$tag.log" 2>&1 &
    else
        env -u HANLIN_DATABASE_URL "$BIN" demo --data-dir "$dir" --listen "$HOST:$PORT" >"$WORK/logs/server-$backend-$tag.log" 2>&1 &
    fi
    SERVER_PID=$!
    local deadline=$((t0 + 60 * 1000000000))
    until curl -sf -o /dev/null --max-time 1 "$URL/healthz"; do
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            tail -n 20 "$WORK/logs/server-$backend-$tag.log" >&2; die "the server exited during start-up"
        fi
        (($(now_ns) < deadline)) || { tail -n 20 "$WORK/logs/server-$backend-$tag.log" >&2; die "no /healthz within 60 s"; }
        sleep 0.01
    done
    local t1; t1=$(now_ns)
    STARTUP_S=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
}

finish_demo() {
    stop_server
    if [[ -n "${CURRENT_DB:-}" ]]; then drop_database "$CURRENT_DB"; CURRENT_DB=""; fi
    rm -rf "$DATA_DIR"
}

# CPU accounting around a run, in clock ticks: machine busy, server, PostgreSQL processes.
cpu_snap() {
    local busy srv pg=0 p
    busy=$(awk '/^cpu /{print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat)
    srv=$(awk '{print $14 + $15}' "/proc/$SERVER_PID/stat" 2>/dev/null || echo 0)
    for p in $(pgrep -x postgres || true); do
        pg=$((pg + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
    done
    echo "$busy $srv $pg"
}
# cpu_report "before" "after" seconds wrk_cpu_seconds -> "cpu%: all 196 server 150 postgres 0 wrk 40 other 6"
cpu_report() {
    local tck; tck=$(getconf CLK_TCK)
    awk -v b="$1" -v a="$2" -v s="$3" -v w="$4" -v t="$tck" 'BEGIN {
        split(b, x, " "); split(a, y, " ");
        all = (y[1] - x[1]) / t / s * 100; srv = (y[2] - x[2]) / t / s * 100; pg = (y[3] - x[3]) / t / s * 100;
        wrk = w / s * 100; other = all - srv - pg - wrk; if (other < 0) other = 0;
        printf "cpu%%: all %.0f server %.0f postgres %.0f wrk %.0f other %.0f", all, srv, pg, wrk, other }'
}

# Remembers the largest share of CPU taken by other processes during any run (interference).
MAX_OTHER=0
track() {
    local o; o=$(sed -n 's/.* other \([0-9]*\).*/\1/p' <<<"$1")
    if [[ -n $o ]] && ((o > MAX_OTHER)); then MAX_OTHER=$o; fi
}

# Before each measured run: wait (up to BENCH_QUIET_WAIT s, default 300) until the machine is
# quiet, i.e. less than 20% of one core busy over 2 s while our server is idle. Other work on the
# same 2 cores (builds, browser tests) depresses every figure.
QUIET_WAIT="${BENCH_QUIET_WAIT:-300}"

# run_wrk NAME ARGS... : runs wrk (timed), keeps its output in logs/NAME.txt, prints the RESULT line
run_wrk() {
    local name=$1; shift
    if [[ -n $TIME_BIN ]]; then
        "$TIME_BIN" -f "%U %S" -o "$WORK/logs/$name.time" wrk "$@" >"$WORK/logs/$name.txt" 2>&1
    else
        wrk "$@" >"$WORK/logs/$name.txt" 2>&1
        echo "0 0" >"$WORK/logs/$name.time"
    fi
    grep '^RESULT' "$WORK/logs/$name.txt" || { cat "$WORK/logs/$name.txt" >&2; die "wrk run $name printed no RESULT"; }
}
wrk_cpu() { awk '{print $1 + $2}' "$WORK/logs/$1.time" 2>/dev/null || echo 0; }

field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1"; }

login_body() { jq -nc --arg l "$1" --arg p "$2" '{login: $l, password: $p}'; }

# Logs in $2 times, rotating over the demo accounts; session cookie values go to $1.
make_sessions() {
    local out=$1 want=$2 n=0
    : >"$out"
    while ((n < want)); do
        while IFS=$'\t' read -r l p && ((n < want)); do
            curl -s -o /dev/null -D - -H 'Content-Type: application/json' -d "$(login_body "$l" "$p")" "$URL/api/v1/auth/login" \
                | sed -n 's/^[Ss]et-[Cc]ookie: hanlin_session=\([^;]*\);.*/\1/p' >>"$out"
            n=$((n + 1))
        done <"$WORK/credentials.tsv"
    done
    local got; got=$(wc -l <"$out")
    ((got == want)) || die "only $got of $want logins succeeded"
    [[ $(curl -s -o /dev/null -w '%{http_code}' -b "hanlin_session=$(head -n1 "$out")" "$URL/api/v1/me") == 200 ]] \
        || die "GET /api/v1/me with a fresh session does not answer 200"
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
minmax() { sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%s..%s", lo, hi }'; }

declare -A R   # results: R[backend.metric]

# ---------------------------------------------------------------- the benchmarks
for backend in $BACKENDS; do
    say ""
    say "== $backend"

    # 3. Start-up, from an empty data directory (and empty database), REPS times; the last server stays up.
    : >"$WORK/startup-$backend"
    for rep in $(seq "$REPS"); do
        wait_quiet
        start_demo "$backend" "$rep"
        say "startup $backend #$rep: $STARTUP_S s from launch to /healthz 200"
        echo "$STARTUP_S" >>"$WORK/startup-$backend"
        if ((rep < REPS)); then finish_demo; fi
    done
    R[$backend.startup]=$(median <"$WORK/startup-$backend")
    R[$backend.startup_range]=$(minmax <"$WORK/startup-$backend")

    jq -r '.[] | "\(.login)\t\(.password)"' "$DATA_DIR/demo-accounts.json" >"$WORK/credentials.tsv"
    make_sessions "$WORK/sessions.txt" "$ME_SESSIONS"
    export BENCH_COOKIES="$WORK/sessions.txt" BENCH_CREDENTIALS="$WORK/credentials.tsv"

    # 1. GET /api/v1/me, closed loop at 64 connections. Warm-up first (connections, caches).
    wrk -t1 -c"$ME_CONNS" -d3s -s "$REPO/bench/me.lua" "$URL/" >/dev/null 2>&1
    : >"$WORK/me-rps-$backend"; : >"$WORK/me-p99-$backend"
    for rep in $(seq "$REPS"); do
        wait_quiet
        before=$(cpu_snap)
        line=$(run_wrk "me-$backend-t1-$rep" -t1 -c"$ME_CONNS" -d"${DURATION}s" --latency -s "$REPO/bench/me.lua" "$URL/")
        after=$(cpu_snap)
        cpu=$(cpu_report "$before" "$after" "$DURATION" "$(wrk_cpu "me-$backend-t1-$rep")")
        track "$cpu"
        say "me $backend -t1 #$rep: $line | $cpu"
        field "$line" rps >>"$WORK/me-rps-$backend"
        field "$line" p99_ms >>"$WORK/me-p99-$backend"
    done
    R[$backend.me_rps]=$(median <"$WORK/me-rps-$backend")
    R[$backend.me_rps_range]=$(minmax <"$WORK/me-rps-$backend")
    R[$backend.me_p99]=$(median <"$WORK/me-p99-$backend")
    R[$backend.me_p99_range]=$(minmax <"$WORK/me-p99-$backend")
    # For comparison: two wrk threads (the generator may then take both cores from the server).
    wait_quiet
    before=$(cpu_snap)
    line=$(run_wrk "me-$backend-t2" -t2 -c"$ME_CONNS" -d"${DURATION}s" --latency -s "$REPO/bench/me.lua" "$URL/")
    after=$(cpu_snap)
    cpu=$(cpu_report "$before" "$after" "$DURATION" "$(wrk_cpu "me-$backend-t2")")
    track "$cpu"
    say "me $backend -t2:    $line | $cpu"
    R[$backend.me_t2_rps]=$(field "$line" rps)
    R[$backend.me_t2_p99]=$(field "$line" p99_ms)

    # Diagnostic: the same run once more with the sessions' actor-cache entries expiring at spread
    # times instead of together. The server caches a signed-in actor for 5 s (kernel::auth::ActorCache);
    # sessions first used together expire together and reload together every 5 s. Here each
    # session is first used 5000/64 ms after the previous one, as independent users would be.
    wait_quiet
    sleep 4
    while read -r c; do
        curl -s -o /dev/null -b "hanlin_session=$c" "$URL/api/v1/me"
        sleep "$(awk -v n="$ME_SESSIONS" 'BEGIN { printf "%.3f", 5 / n }')"
    done <"$WORK/sessions.txt"
    before=$(cpu_snap)
    line=$(run_wrk "me-$backend-spread" -t1 -c"$ME_CONNS" -d"${DURATION}s" --latency -s "$REPO/bench/me.lua" "$URL/")
    after=$(cpu_snap)
    cpu=$(cpu_report "$before" "$after" "$DURATION" "$(wrk_cpu "me-$backend-spread")")
    track "$cpu"
    say "me $backend -t1 spread expiries: $line | $cpu"
    R[$backend.me_spread_rps]=$(field "$line" rps)
    R[$backend.me_spread_p99]=$(field "$line" p99_ms)

    # 2. Login flood: 200 clients POST valid credentials for DURATION+6 s; after 3 s of it, a paced
    #    /me probe (16 connections, 10 ms pause each) runs for DURATION s, inside the flood.
    : >"$WORK/login-ok-$backend"; : >"$WORK/probe-p99-$backend"; : >"$WORK/login-429-$backend"
    for rep in $(seq "$REPS"); do
        flood_s=$((DURATION + 6))
        wait_quiet
        before=$(cpu_snap)
        run_wrk "login-$backend-$rep" -t1 -c"$LOGIN_CONNS" -d"${flood_s}s" --timeout 10s -s "$REPO/bench/login.lua" "$URL/" \
            >"$WORK/login-line" &
        flood=$!
        BG_PIDS+=("$flood")
        sleep 3
        probe=$(BENCH_DELAY_MS=$PROBE_DELAY_MS run_wrk "probe-$backend-$rep" -t1 -c"$PROBE_CONNS" -d"${DURATION}s" --latency \
            -s "$REPO/bench/me.lua" "$URL/")
        wait "$flood"
        after=$(cpu_snap)
        line=$(cat "$WORK/login-line")
        cpu=$(cpu_report "$before" "$after" "$flood_s" \
            "$(awk -v a="$(wrk_cpu "login-$backend-$rep")" -v b="$(wrk_cpu "probe-$backend-$rep")" 'BEGIN { print a + b }')")
        track "$cpu"
        say "login $backend #$rep: $line | $cpu"
        say "  probe during it: $probe"
        field "$line" ok_per_s >>"$WORK/login-ok-$backend"
        field "$line" s429 >>"$WORK/login-429-$backend"
        field "$probe" p99_ms >>"$WORK/probe-p99-$backend"
        R[$backend.probe_rps]=$(field "$probe" rps)
    done
    R[$backend.login]=$(median <"$WORK/login-ok-$backend")
    R[$backend.login_range]=$(minmax <"$WORK/login-ok-$backend")
    R[$backend.login_429]=$(median <"$WORK/login-429-$backend")
    R[$backend.probe_p99]=$(median <"$WORK/probe-p99-$backend")
    R[$backend.probe_p99_range]=$(minmax <"$WORK/probe-p99-$backend")

    finish_demo
done

# ---------------------------------------------------------------- summary
verdict() { awk -v v="$1" -v t="$2" -v op="$3" 'BEGIN { ok = (op == ">=") ? (v >= t) : (v <= t); print ok ? "PASS" : "FAIL" }'; }
say ""
say "== summary (median of $REPS runs, range in brackets; wrk -t1; ${DURATION} s per run; load average now $(cut -d' ' -f1-3 /proc/loadavg))"
printf '%-10s %-44s %-10s %-26s %s\n' backend metric target measured verdict
for backend in $BACKENDS; do
    row() { printf '%-10s %-44s %-10s %-26s %s\n' "$backend" "$1" "$2" "$3" "$4"; }
    row "GET /api/v1/me req/s (64 conns)" ">= $T_ME_RPS" "${R[$backend.me_rps]} [${R[$backend.me_rps_range]}]" \
        "$(verdict "${R[$backend.me_rps]}" $T_ME_RPS ">=")"
    row "GET /api/v1/me p99 ms (64 conns)" "<= $T_ME_P99" "${R[$backend.me_p99]} [${R[$backend.me_p99_range]}]" \
        "$(verdict "${R[$backend.me_p99]}" $T_ME_P99 "<=")"
    row "  (wrk -t2: req/s, p99 ms)" "" "${R[$backend.me_t2_rps]}, ${R[$backend.me_t2_p99]}" ""
    row "  (cache expiries spread: req/s, p99 ms)" "" "${R[$backend.me_spread_rps]}, ${R[$backend.me_spread_p99]}" ""
    row "successful logins/s (200 clients)" ">= $T_LOGIN_RPS" "${R[$backend.login]} [${R[$backend.login_range]}]" \
        "$(verdict "${R[$backend.login]}" $T_LOGIN_RPS ">=")"
    row "  429 answers per run" "" "${R[$backend.login_429]}" ""
    row "/me p99 ms during login flood (~${R[$backend.probe_rps]}/s)" "<= $T_PROBE_P99" \
        "${R[$backend.probe_p99]} [${R[$backend.probe_p99_range]}]" "$(verdict "${R[$backend.probe_p99]}" $T_PROBE_P99 "<=")"
    row "demo start-up to /healthz s" "<= $T_STARTUP" "${R[$backend.startup]} [${R[$backend.startup_range]}]" \
        "$(verdict "${R[$backend.startup]}" $T_STARTUP "<=")"
done
if ((MAX_OTHER > 10)); then
    say ""
    say "WARNING: other processes took up to ${MAX_OTHER}% CPU (of 100% per core) during a run; the figures above"
    say "are depressed by that interference. Re-run on a quiet machine."
fi
