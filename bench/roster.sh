#!/usr/bin/env bash
# Benchmarks of the roster (see "Roster benchmarks" in bench/README.md): builds the release binary,
# then for each backend (SQLite, PostgreSQL)
#   1. imports BENCH_STUDENTS (1,000,000) students with a parent each from a CSV through the running
#      server (POST /api/v1/imports, API token) into a region whose schools, classes, teachers and
#      headcounts `hanlin gen` imported beforehand: time to "done", the server's peak RSS, and the
#      p99 of a paced GET /api/v1/me probe running during the import;
#   2. renders the rostering statistics of the province's child units (GET /roster/stats and
#      GET /api/v1/roster/stats, 20 sequential requests each);
#   3. uploads an XLSX zip bomb (bench/bomb.py: 0.5 MB inflating to 500 MB) and checks the job is
#      refused and the server's peak RSS barely moves;
# and, once, feeds the bomb to `hanlin import` under /usr/bin/time -v (peak RSS ≤ 64 MB).
# With BENCH_STATS_ONLY=1 it instead populates a data dir with `hanlin gen --size hubei --into-db`
# (7,000,000 students, all through the command-line import; long) and measures only (2).
# Prints a summary against the targets. Everything runs on 127.0.0.1; servers, databases and
# temporary files it creates are removed on exit, also on failure or Ctrl-C (except BENCH_KEEP_DATA).
#
# Usage: bench/roster.sh                         (about 10 minutes plus the build at 1,000,000)
#        BENCH_STATS_ONLY=1 bench/roster.sh      (hours: generates and imports a 7,000,000-student province)
# Knobs (environment):
#   BENCH_BACKENDS="sqlite postgres"  which backends to run
#   BENCH_STUDENTS=1000000            students in the imported CSV (one parent each)
#   BENCH_STATS_ONLY=1                only the statistics, on a data dir populated with BENCH_SIZE
#   BENCH_SIZE=hubei                  `hanlin gen --size` for BENCH_STATS_ONLY
#   BENCH_GEN_ONE_PROCESS=1           populate with one `hanlin gen --into-db` instead of
#                                     `hanlin gen --into-db --skip students` + `hanlin import students`
#                                     (the default, because `hanlin import` prints the students'
#                                     progress and `gen` does not; and because builds before 70f8445
#                                     took 1,058 s instead of 13 s for 50,000 students on PostgreSQL in
#                                     one process: a cached generic plan of the per-school counts query)
#   BENCH_KEEP_DATA=DIR               keep each backend's data dir as DIR/<backend> (and its database,
#                                     hanlin_bench_roster_keep_<backend>) after the run; a later run
#                                     with the same DIR reuses them for the statistics instead of
#                                     generating again (BENCH_STATS_ONLY) or refuses to overwrite them
#   BENCH_HEARTBEAT=60                seconds between progress lines while populating
#   BENCH_STATS_REQUESTS=20           sequential requests per statistics URL
#   BENCH_PROBE_DELAY_MS=10           pause of each of the 16 /me probe connections between requests
#   BENCH_IMPORT_TIMEOUT=1800         seconds to wait for the import job
#   BENCH_PROBE_SECONDS=timeout+60    the longest the /me probe runs (it is stopped when the import ends)
#   BENCH_BOMB=1                      0: skip the zip-bomb checks
#   BENCH_BOMB_MB=500                 inflated size of the bomb's worksheet (MB)
#   BENCH_SKIP_BUILD=1                use the existing $CARGO_TARGET_DIR/release/hanlin
#   BENCH_PORT=18580                  first port to try (127.0.0.1 only)
#   BENCH_PGPORT=5432 BENCH_PGUSER=postgres   PostgreSQL at 127.0.0.1 (trust auth); a fresh
#                                     database hanlin_bench_roster_<pid>_<n> is created and dropped
#   BENCH_QUIET_WAIT=300              seconds to wait for a quiet machine before each measurement
#   BENCH_LOG_DIR=DIR                 keep the raw outputs (wrk, server, CLI, job JSON) in DIR
#   CARGO_TARGET_DIR                  default /work/target

set -Eeuo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=bench/lib.sh
source "$REPO/bench/lib.sh"
BACKENDS="${BENCH_BACKENDS:-sqlite postgres}"
STUDENTS="${BENCH_STUDENTS:-1000000}"
STATS_ONLY="${BENCH_STATS_ONLY:-}"
[[ $STATS_ONLY == 0 ]] && STATS_ONLY=""
SIZE="${BENCH_SIZE:-hubei}"
GEN_ONE_PROCESS="${BENCH_GEN_ONE_PROCESS:-}"
[[ $GEN_ONE_PROCESS == 0 ]] && GEN_ONE_PROCESS=""
KEEP="${BENCH_KEEP_DATA:-}"
STATS_REQUESTS="${BENCH_STATS_REQUESTS:-20}"
PROBE_DELAY_MS="${BENCH_PROBE_DELAY_MS:-10}"
IMPORT_TIMEOUT="${BENCH_IMPORT_TIMEOUT:-1800}"
PROBE_SECONDS="${BENCH_PROBE_SECONDS:-$((IMPORT_TIMEOUT + 60))}"
BOMB="${BENCH_BOMB:-1}"
BOMB_MB="${BENCH_BOMB_MB:-500}"
PORT="${BENCH_PORT:-18580}"
PGPORT_="${BENCH_PGPORT:-5432}"
PGUSER_="${BENCH_PGUSER:-postgres}"
QUIET_WAIT="${BENCH_QUIET_WAIT:-300}"
HEARTBEAT="${BENCH_HEARTBEAT:-60}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/work/target}"
HOST=127.0.0.1
ADMIN_LOGIN=benchadmin
ADMIN_NAME=压测管理员

# Targets of the issue.
T_IMPORT_SQLITE=60   # import of 1,000,000 students with a parent each, at most (s), SQLite
T_IMPORT_PG=120      # ... PostgreSQL
T_IMPORT_RSS=300     # server peak RSS during it, at most (MB)
T_PROBE_P99=50       # GET /api/v1/me p99 during it, at most (ms)
T_STATS=1            # statistics of a province's child units, slowest of the requests, at most (s)
T_BOMB_RSS=64        # peak RSS reading the zip bomb, at most (MB)

PROBE_CONNS=16       # the paced /me probe: 16 connections, each pausing PROBE_DELAY_MS between requests

# ---------------------------------------------------------------- clean-up, whatever happens
WORK="$(mktemp -d /tmp/hanlin-bench-roster.XXXXXX)"
SERVER_PID=""
BG_PIDS=()
DATABASES=()

# The server gets up to 10 s to stop (stop_server in lib.sh).
SERVER_STOP_WAIT=10

drop_database() {
    dropdb -h "$HOST" -p "$PGPORT_" -U "$PGUSER_" --if-exists --force "$1" >/dev/null 2>&1 || true
}

kill_bg() {
    local p kids
    for p in "${BG_PIDS[@]}"; do
        kids=$(pgrep -P "$p" || true)   # the sleep a heartbeat runs
        kill "$p" 2>/dev/null || true
        if [[ -n $kids ]]; then kill $kids 2>/dev/null || true; fi
        wait "$p" 2>/dev/null || true
    done
    BG_PIDS=()
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    kill_bg
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
trap 'echo "roster.sh: failed at line $LINENO: $BASH_COMMAND" >&2' ERR

mkdir -p "$WORK/logs"
say() { printf '%s\n' "$*"; }
die() { say "roster.sh: $*" >&2; exit 1; }
# A check of the product that failed: reported loudly, marked in the summary, exit status 1 at the end.
PROBLEMS=()
problem() { say "!! PROBLEM: $*" >&2; PROBLEMS+=("$*"); }

# ---------------------------------------------------------------- prerequisites
for tool in wrk curl jq awk python3; do
    command -v "$tool" >/dev/null || die "$tool is missing (Debian: apt-get install -y wrk curl jq python3)"
done
[[ -x /usr/bin/time ]] || [[ $BOMB == 0 ]] || die "/usr/bin/time is missing (Debian: apt-get install -y time)"
if [[ " $BACKENDS " == *" postgres "* ]]; then
    for tool in createdb dropdb psql; do command -v "$tool" >/dev/null || die "$tool is missing (postgresql-client)"; done
    psql -h "$HOST" -p "$PGPORT_" -U "$PGUSER_" -d postgres -Atc "SELECT 1" >/dev/null \
        || die "PostgreSQL does not answer at $HOST:$PGPORT_ as $PGUSER_"
fi
[[ $STUDENTS =~ ^[0-9]+$ ]] && ((STUDENTS > 0)) || die "BENCH_STUDENTS must be a positive whole number"
if [[ -n $KEEP ]]; then
    mkdir -p "$KEEP"
    KEEP="$(cd "$KEEP" && pwd)"
    if [[ -z $STATS_ONLY ]]; then
        for b in $BACKENDS; do
            [[ ! -f $KEEP/$b/bench-populated ]] \
                || die "$KEEP/$b already holds a population of an earlier run ($(cat "$KEEP/$b/bench-populated")); the import needs a fresh one: remove it$([[ $b == postgres ]] && echo " and dropdb hanlin_bench_roster_keep_postgres"), or use BENCH_STATS_ONLY=1"
        done
    fi
fi

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
say "== commit $COMMIT$([[ $DIRTY != 0 ]] && echo " (+$DIRTY modified tracked files)"), binary of $(date -u -r "$CARGO_TARGET_DIR/release/hanlin" +%Y-%m-%dT%H:%M:%SZ), $(date -u +%Y-%m-%dT%H:%M:%SZ), load average $(cut -d' ' -f1-3 /proc/loadavg)"

if [[ " $BACKENDS " == *" postgres "* ]]; then
    say "== PostgreSQL $(psql -h "$HOST" -p "$PGPORT_" -U "$PGUSER_" -d postgres -Atc "SELECT current_setting('server_version') || ', shared_buffers ' || current_setting('shared_buffers') || ', autovacuum ' || current_setting('autovacuum') || ', synchronous_commit ' || current_setting('synchronous_commit') || ', fsync ' || current_setting('fsync')")"
fi

# ---------------------------------------------------------------- helpers
port_free() { ! (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }
while ! port_free "$PORT"; do PORT=$((PORT + 1)); done
URL="http://$HOST:$PORT"

now_ns() { date +%s%N; }
secs_since() { awk -v a="$1" -v b="$(now_ns)" 'BEGIN { printf "%.2f", (b - a) / 1e9 }'; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.6f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1"; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }   # kB -> MB
# VmHWM / VmRSS of a process, in kB
proc_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
# Resets the peak RSS (VmHWM) of a process to its current RSS (Linux ≥ 4.0: clear_refs "5").
reset_hwm() { echo 5 >"/proc/$1/clear_refs" 2>/dev/null; }

# Runs the binary for backend $BACKEND (its database URL in DB_URL), from $WORK so that no
# hanlin.toml of the current directory is picked up.
hanlin() {
    if [[ -n ${DB_URL:-} ]]; then
        (cd "$WORK" && HANLIN_DATABASE_URL="$DB_URL" "$BIN" "$@")
    else
        (cd "$WORK" && env -u HANLIN_DATABASE_URL "$BIN" "$@")
    fi
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
# cpu_report "before" "after" seconds wrk_ticks -> "cpu%: all 196 server 150 postgres 0 wrk 4 other 6"
cpu_report() {
    local tck; tck=$(getconf CLK_TCK)
    awk -v b="$1" -v a="$2" -v s="$3" -v w="$4" -v t="$tck" 'BEGIN {
        split(b, x, " "); split(a, y, " ");
        all = (y[1] - x[1]) / t / s * 100; srv = (y[2] - x[2]) / t / s * 100; pg = (y[3] - x[3]) / t / s * 100;
        wrk = w / t / s * 100; other = all - srv - pg - wrk; if (other < 0) other = 0;
        printf "cpu%%: all %.0f server %.0f postgres %.0f wrk %.0f other %.0f", all, srv, pg, wrk, other }'
}
MAX_OTHER=0
track() {
    local o; o=$(sed -n 's/.* other \([0-9]*\).*/\1/p' <<<"$1")
    if [[ -n $o ]] && ((o > MAX_OTHER)); then MAX_OTHER=$o; fi
}

# Before each measurement, wait_quiet (lib.sh) waits for a quiet machine.

# Prepares backend $1's data dir (DATA) and, for PostgreSQL, database (DB_URL, CURRENT_DB).
# With BENCH_KEEP_DATA they are DIR/<backend> and hanlin_bench_roster_keep_<backend>, kept on exit;
# REUSED=1 when they hold a finished population from an earlier run.
DBSEQ=0
prepare_data() {
    local backend=$1 db
    REUSED=""
    DB_URL=""
    CURRENT_DB=""
    if [[ -n $KEEP ]]; then
        DATA="$KEEP/$backend"
        db="hanlin_bench_roster_keep_$backend"
        if [[ -f $DATA/bench-populated ]]; then
            REUSED=1
            [[ $backend == postgres ]] && DB_URL="postgres://$PGUSER_@$HOST:$PGPORT_/$db"
            return 0
        fi
        rm -rf "$DATA"
        if [[ $backend == postgres ]]; then drop_database "$db"; fi
    else
        DBSEQ=$((DBSEQ + 1))
        DATA="$WORK/data-$backend"
        db="hanlin_bench_roster_$$_$DBSEQ"
        rm -rf "$DATA"
    fi
    mkdir -p "$DATA"
    if [[ $backend == postgres ]]; then
        createdb -h "$HOST" -p "$PGPORT_" -U "$PGUSER_" "$db"
        [[ -z $KEEP ]] && DATABASES+=("$db")
        CURRENT_DB="$db"
        DB_URL="postgres://$PGUSER_@$HOST:$PGPORT_/$db"
    fi
}

finish_data() {
    stop_server
    if [[ -z $KEEP ]]; then
        if [[ -n ${CURRENT_DB:-} ]]; then drop_database "$CURRENT_DB"; fi
        rm -rf "$DATA"
    fi
    CURRENT_DB=""
    DB_URL=""
}

# Size of the backend's database, for progress lines.
db_size() {
    if [[ -n ${DB_URL:-} ]]; then
        psql -h "$HOST" -p "$PGPORT_" -U "$PGUSER_" -d "${DB_URL##*/}" -Atc "SELECT pg_size_pretty(pg_database_size(current_database()))" 2>/dev/null || echo "?"
    else
        du -sh "$DATA" 2>/dev/null | cut -f1
    fi
}

# The lines of `hanlin gen` worth showing (not its log lines).
gen_lines() { grep -E '^(imported |files written|writing files|checking: |writing: |[a-z]+ +[0-9]+ rows)' "$1" || true; }

# Prints a progress line every HEARTBEAT s until killed (for the long population).
heartbeat() {
    local start=$SECONDS what=$1
    while sleep "$HEARTBEAT"; do
        say "  ... $what: $((SECONDS - start)) s, database $(db_size); last: $(gen_lines "$2" | tail -n 1)"
    done
}

# The password of benchadmin: created (on a fresh population) or reset (on a reused one).
admin_password() {
    local log=$1 out
    if [[ -n $REUSED ]]; then
        out=$(hanlin admin reset-password --login "$ADMIN_LOGIN" --data-dir "$DATA" 2>>"$log") \
            || { cat "$log" >&2; die "admin reset-password failed"; }
    else
        out=$(hanlin admin create-superuser --login "$ADMIN_LOGIN" --name "$ADMIN_NAME" --data-dir "$DATA" 2>>"$log") \
            || { cat "$log" >&2; die "admin create-superuser failed"; }
    fi
    printf '%s\n' "$out" >>"$log"
    ADMIN_PW=$(sed -n 's/^password: //p' <<<"$out")
    [[ -n $ADMIN_PW ]] || die "no 'password:' line from the admin command: $out"
}

# Starts `hanlin serve` on DATA (and DB_URL) and waits for /readyz 200.
start_server() {
    local log=$1 t0; t0=$(now_ns)
    if [[ -n ${DB_URL:-} ]]; then
        (cd "$WORK" && HANLIN_LOG=warn HANLIN_DATABASE_URL="$DB_URL" exec "$BIN" serve --data-dir "$DATA" --listen "$HOST:$PORT") >"$log" 2>&1 &
    else
        (cd "$WORK" && HANLIN_LOG=warn exec env -u HANLIN_DATABASE_URL "$BIN" serve --data-dir "$DATA" --listen "$HOST:$PORT") >"$log" 2>&1 &
    fi
    SERVER_PID=$!
    until [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$URL/readyz" || true) == 200 ]]; do
        kill -0 "$SERVER_PID" 2>/dev/null || { tail -n 20 "$log" >&2; die "the server exited during start-up"; }
        (($(now_ns) - t0 < 120 * 1000000000)) || { tail -n 20 "$log" >&2; die "no /readyz 200 within 120 s"; }
        sleep 0.1
    done
    say "server up on $URL (pid $SERVER_PID, $(secs_since "$t0") s, RSS $(mb "$(proc_kb "$SERVER_PID" VmRSS)") MB)"
}

# After the logins (each Argon2id hash takes 19 MiB on a blocking thread), the server's RSS stays
# higher until the idle blocking threads exit (tokio: 10 s) and their memory goes back to the
# system. Waits 15 s, then (up to 60 s) until the RSS stops falling, so that the import's peak is
# not inflated by the logins that prepared it.
settle_rss() {
    local first prev cur
    first=$(proc_kb "$SERVER_PID" VmRSS)
    sleep 15
    prev=$(proc_kb "$SERVER_PID" VmRSS)
    cur=$prev
    for _ in $(seq 12); do
        sleep 5
        cur=$(proc_kb "$SERVER_PID" VmRSS)
        ((prev - cur < 2048)) && break
        prev=$cur
    done
    say "server RSS $(mb "$first") MB after the logins, $(mb "$cur") MB once settled"
}

login_body() { jq -nc --arg l "$1" --arg p "$2" '{login: $l, password: $p}'; }

# Logs benchadmin in $2 times, one after the other; session cookie values go to $1.
make_sessions() {
    local out=$1 want=$2 n
    : >"$out"
    for n in $(seq "$want"); do
        curl -s -o /dev/null -D - -H 'Content-Type: application/json' -d "$(login_body "$ADMIN_LOGIN" "$ADMIN_PW")" \
            "$URL/api/v1/auth/login" | sed -n 's/^[Ss]et-[Cc]ookie: hanlin_session=\([^;]*\);.*/\1/p' >>"$out"
    done
    local got; got=$(wc -l <"$out")
    ((got == want)) || die "only $got of $want logins of $ADMIN_LOGIN succeeded"
    [[ $(curl -s -o /dev/null -w '%{http_code}' -b "hanlin_session=$(head -n1 "$out")" "$URL/api/v1/me") == 200 ]] \
        || die "GET /api/v1/me with a fresh session does not answer 200"
    COOKIE="hanlin_session=$(head -n1 "$out")"
}

# A personal API token (write scope) of benchadmin -> TOKEN
make_token() {
    local resp
    resp=$(curl -s -b "$COOKIE" -H 'Content-Type: application/json' -d '{"name":"bench","scope":"write","days":1}' "$URL/api/v1/tokens")
    TOKEN=$(jq -r '.token // empty' <<<"$resp" 2>/dev/null || true)
    [[ $TOKEN == hlt_* ]] || die "POST /api/v1/tokens did not return a token: $resp"
}

# upload FILE -> JOB_ID (POST /api/v1/imports, kind=students, with the API token); UPLOAD_S = curl's time
upload() {
    local file=$1 out="$WORK/upload.json" line code
    line=$(curl -s -o "$out" -w '%{http_code} %{time_total}' -H "Authorization: Bearer $TOKEN" \
        -F kind=students -F "file=@$file" "$URL/api/v1/imports")
    code=${line%% *}
    UPLOAD_S=${line#* }
    [[ $code == 202 ]] || die "POST /api/v1/imports answered $code: $(head -c 500 "$out")"
    JOB_ID=$(jq -r .id "$out")
}

# Polls GET /api/v1/imports/$1 every 0.5 s until the job has finished (zh-CN texts); the last
# answer goes to JOB_JSON (also logs/$2). Prints the progress every 10 s when $3 is set.
wait_job() {
    local id=$1 name=$2 verbose=${3:-} start=$SECONDS last=$SECONDS status="" anon file
    PEAK_ANON=0 PEAK_FILE=0   # largest RssAnon / RssFile (kB) seen at the polls: what the peak is made of
    while :; do
        anon=$(proc_kb "$SERVER_PID" RssAnon); file=$(proc_kb "$SERVER_PID" RssFile)
        ((anon > PEAK_ANON)) && PEAK_ANON=$anon
        ((file > PEAK_FILE)) && PEAK_FILE=$file
        JOB_JSON=$(curl -s --max-time 10 -H "Authorization: Bearer $TOKEN" -H 'Accept-Language: zh-CN' "$URL/api/v1/imports/$id" || true)
        status=$(jq -r '.status // empty' <<<"$JOB_JSON" 2>/dev/null || true)
        case $status in done | failed | cancelled) break ;; esac
        if ((SECONDS - start > IMPORT_TIMEOUT)); then
            printf '%s\n' "$JOB_JSON" >"$WORK/logs/$name.json"
            die "import job $id not finished after $IMPORT_TIMEOUT s (last answer: $JOB_JSON)"
        fi
        kill -0 "$SERVER_PID" 2>/dev/null || die "the server died during import job $id"
        if [[ -n $verbose ]] && ((SECONDS - last >= 10)); then
            last=$SECONDS
            say "  ... $((SECONDS - start)) s: $(jq -r '"\(.status) \(.phase) \(.progress.done)/\(.progress.total) rows, \(.progress.rows_per_second | floor) rows/s"' <<<"$JOB_JSON" 2>/dev/null || echo "$JOB_JSON"), server RSS $(mb "$(proc_kb "$SERVER_PID" VmRSS)") MB"
        fi
        sleep 0.5
    done
    printf '%s\n' "$JOB_JSON" >"$WORK/logs/$name.json"
}

# stats_run NAME PATH: STATS_REQUESTS sequential GETs with the session cookie; sets STATS_MED,
# STATS_MAX and STATS_FIRST (seconds, curl's time_total). Not to be run in $(…): it reports problems.
stats_run() {
    local name=$1 path=$2 out="$WORK/logs/$1.txt" code t bad=0
    : >"$out"
    for _ in $(seq "$STATS_REQUESTS"); do
        read -r code t < <(curl -s -o "$WORK/stats-body" -w '%{http_code} %{time_total}\n' --max-time 60 -b "$COOKIE" \
            -H 'Accept-Language: zh-CN' "$URL$path")
        [[ $code == 200 ]] || bad=$((bad + 1))
        echo "$t" >>"$out"
    done
    ((bad == 0)) || problem "GET $path: $bad of $STATS_REQUESTS answers were not 200 (last: $code $(head -c 300 "$WORK/stats-body"))"
    STATS_MED=$(median <"$out")
    STATS_MAX=$(sort -g "$out" | tail -n 1)
    STATS_FIRST=$(head -n 1 "$out")
}

verdict() { awk -v v="$1" -v t="$2" -v op="$3" 'BEGIN { if (v == "" || v == "-") { print "n/a"; exit } ok = (op == ">=") ? (v >= t) : (v <= t); print ok ? "PASS" : "FAIL" }'; }

declare -A R   # results: R[backend.metric]
SUMMARY=()     # rows: backend<TAB>metric<TAB>target<TAB>measured<TAB>verdict
row() { SUMMARY+=("$1"$'\t'"$2"$'\t'"$3"$'\t'"$4"$'\t'"$5"); }

# Statistics of the admin's unit (the province): page and API; checks the API's totals.
measure_stats() {
    local backend=$1 expect_students=${2:-} expect_parents=${3:-} api total s p
    wait_quiet
    # What is measured: the province's children (cities), the unit of benchadmin.
    api=$(curl -s -b "$COOKIE" "$URL/api/v1/roster/stats")
    printf '%s\n' "$api" >"$WORK/logs/stats-$backend.json"
    total=$(jq -c '.total.figures | {schools, students, parents, teachers, classes, official_students}' <<<"$api" 2>/dev/null || echo "?")
    say "statistics of $(jq -r '"\(.unit.kind) \(.unit.name)"' <<<"$api" 2>/dev/null): $(jq -r '.rows | length' <<<"$api" 2>/dev/null) child units; total $total"
    s=$(jq -r '.total.figures.students' <<<"$api" 2>/dev/null || echo "")
    p=$(jq -r '.total.figures.parents' <<<"$api" 2>/dev/null || echo "")
    if [[ -n $expect_students && $s != "$expect_students" ]]; then
        problem "$backend: the statistics count $s students in the province, $expect_students expected"
    fi
    if [[ -n $expect_parents && $p != "$expect_parents" ]]; then
        problem "$backend: the statistics count $p parents in the province, $expect_parents expected"
    fi
    stats_run "stats-page-$backend" /roster/stats
    R[$backend.stats_page_med]=$STATS_MED R[$backend.stats_page_max]=$STATS_MAX R[$backend.stats_page_first]=$STATS_FIRST
    stats_run "stats-api-$backend" /api/v1/roster/stats
    R[$backend.stats_api_med]=$STATS_MED R[$backend.stats_api_max]=$STATS_MAX R[$backend.stats_api_first]=$STATS_FIRST
    say "GET /roster/stats        x$STATS_REQUESTS: median ${R[$backend.stats_page_med]} s, max ${R[$backend.stats_page_max]} s, first ${R[$backend.stats_page_first]} s"
    say "GET /api/v1/roster/stats x$STATS_REQUESTS: median ${R[$backend.stats_api_med]} s, max ${R[$backend.stats_api_max]} s, first ${R[$backend.stats_api_first]} s"
    row "$backend" "roster stats page s, median/max ($STATS_REQUESTS)" "<= $T_STATS" \
        "${R[$backend.stats_page_med]} / ${R[$backend.stats_page_max]}" "$(verdict "${R[$backend.stats_page_max]}" $T_STATS "<=")"
    row "$backend" "roster stats API s, median/max ($STATS_REQUESTS)" "<= $T_STATS" \
        "${R[$backend.stats_api_med]} / ${R[$backend.stats_api_max]}" "$(verdict "${R[$backend.stats_api_max]}" $T_STATS "<=")"
}

# ---------------------------------------------------------------- the zip bomb, through the CLI
BOMB_FILES=()
if [[ $BOMB != 0 ]]; then
    say ""
    say "== zip bomb"
    python3 "$REPO/bench/bomb.py" --inflated-mb "$BOMB_MB" "$WORK/bomb.xlsx" | tee "$WORK/logs/bomb.txt"
    python3 "$REPO/bench/bomb.py" --inflated-mb "$BOMB_MB" --lie "$WORK/bomb-lie.xlsx" | tee -a "$WORK/logs/bomb.txt"
    BOMB_BYTES=$(stat -c %s "$WORK/bomb.xlsx")
    ((BOMB_BYTES <= 1000000)) || problem "bomb.py wrote $BOMB_BYTES bytes, more than 1 MB"
    BOMB_FILES=("bomb:$WORK/bomb.xlsx" "bomb-lie:$WORK/bomb-lie.xlsx")
    # Baseline: the same command on a CSV holding just the students header (nothing to import).
    printf '%s\n' "学校标识码,年级,班级,姓名,性别,学籍号,家长姓名,家长关系,家长手机号" >"$WORK/header-only.csv"
    DB_URL=""
    mkdir -p "$WORK/data-bomb-cli"
    for entry in "baseline:$WORK/header-only.csv" "${BOMB_FILES[@]}"; do
        tag=${entry%%:*}
        file=${entry#*:}
        log="$WORK/logs/cli-$tag.log"
        rc=0
        (cd "$WORK" && env -u HANLIN_DATABASE_URL HANLIN_LOG=warn /usr/bin/time -v "$BIN" import students "$file" \
            --data-dir "$WORK/data-bomb-cli") >"$log" 2>&1 || rc=$?
        rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$log")
        wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { print $2 }' "$log")
        msg=$(grep -m1 '^hanlin:' "$log" || true)
        say "hanlin import students $(basename "$file"): exit $rc, peak RSS $(mb "$rss") MB, wall $wall${msg:+, says: $msg}"
        R[cli.$tag.rss]=$(mb "$rss")
        if [[ $tag == baseline ]]; then continue; fi
        if ((rc == 0)); then
            problem "hanlin import of the zip bomb ($tag) exited 0"
        elif ! grep -Eq 'limit|过大|too large' <<<"$msg"; then
            problem "hanlin import of the zip bomb ($tag) failed without naming a size limit: $(tail -n 3 "$log" | head -n 1)"
        fi
        row "-" "CLI import of the bomb ($tag): peak RSS MB" "<= $T_BOMB_RSS" "${R[cli.$tag.rss]} (refused: $([[ $rc != 0 ]] && echo yes || echo NO))" \
            "$( ((rc != 0)) && verdict "${R[cli.$tag.rss]}" $T_BOMB_RSS "<=" || echo FAIL)"
    done
    row "-" "  (same command on a header-only CSV: MB)" "" "${R[cli.baseline.rss]}" ""
fi

# ---------------------------------------------------------------- the import files
if [[ -z $STATS_ONLY ]]; then
    say ""
    say "== hanlin gen --size students=$STUDENTS,parents=1 (files only)"
    t0=$(now_ns)
    hanlin gen --size "students=$STUDENTS,parents=1" --out "$WORK/files" >"$WORK/logs/gen-files.log" 2>&1 \
        || { tail -n 20 "$WORK/logs/gen-files.log" >&2; die "hanlin gen failed"; }
    gen_lines "$WORK/logs/gen-files.log" | grep -v '^writing' | sed 's/^/  /'
    STUDENTS_CSV="$WORK/files/students.csv"
    CSV_ROWS=$(awk '$1 == "students" { print $2 }' "$WORK/logs/gen-files.log")
    [[ $CSV_ROWS == "$STUDENTS" ]] || problem "hanlin gen wrote $CSV_ROWS student rows, $STUDENTS asked for"
    say "  students.csv: $(du -h "$STUDENTS_CSV" | cut -f1), $(secs_since "$t0") s"
fi

# ---------------------------------------------------------------- per backend
for backend in $BACKENDS; do
    say ""
    say "== $backend"
    prepare_data "$backend"
    slog="$WORK/logs/server-$backend.log"
    alog="$WORK/logs/admin-$backend.log"

    if [[ -n $STATS_ONLY ]]; then
        # ------------------------------------------------ statistics of a populated province
        expect=""
        if [[ -n $REUSED ]]; then
            say "reusing the population in $DATA ($(cat "$DATA/bench-populated"))"
            expect=$(sed -n 's/.* students=\([0-9]*\) .*/\1/p' "$DATA/bench-populated")
            row "$backend" "  (reused population: $(cut -d' ' -f1 "$DATA/bench-populated"))" "" "" ""
        else
            glog="$WORK/logs/gen-$backend.log"
            files="$WORK/files-$backend"
            t0=$(now_ns)
            heartbeat "populating $backend" "$glog" &
            BG_PIDS+=("$!")
            if [[ -n $GEN_ONE_PROCESS ]]; then
                say "populating: hanlin gen --size $SIZE --into-db (every kind through the command-line import; this takes long)"
                hanlin gen --size "$SIZE" --out "$files" --into-db --data-dir "$DATA" >"$glog" 2>&1 \
                    || { kill_bg; tail -n 20 "$glog" >&2; die "hanlin gen --into-db failed on $backend"; }
            else
                # Two processes: see BENCH_GEN_ONE_PROCESS above. The second prints its progress
                # every 3 s, which the heartbeat shows.
                say "populating: hanlin gen --size $SIZE --into-db --skip students, then hanlin import students (this takes long)"
                hanlin gen --size "$SIZE" --out "$files" --into-db --skip students --data-dir "$DATA" >"$glog" 2>&1 \
                    || { kill_bg; tail -n 20 "$glog" >&2; die "hanlin gen --into-db --skip students failed on $backend"; }
                gen_lines "$glog" | grep -v '^writing' | sed 's/^/  /'
                say "  region without students in $(secs_since "$t0") s; now the students"
                t1=$(now_ns)
                HANLIN_LOG=warn hanlin import students "$files/students.csv" --data-dir "$DATA" >>"$glog" 2>&1 \
                    || { kill_bg; tail -n 20 "$glog" >&2; die "hanlin import students failed on $backend"; }
                say "  $(grep -E '^[0-9]+ rows in' "$glog" | tail -n 1) ($(secs_since "$t1") s)"
            fi
            kill_bg
            [[ -n $GEN_ONE_PROCESS ]] && gen_lines "$glog" | grep -v '^writing' | sed 's/^/  /'
            rm -rf "$files"
            took=$(secs_since "$t0")
            expect=$(awk '$1 == "students" && $3 == "rows" { print $2 }' "$glog" | head -n 1)
            say "populated in $took s; database $(db_size)"
            R[$backend.populate_s]=$took
            row "$backend" "  (populating --size $SIZE: s)" "" "$took" ""
            if [[ -n $KEEP ]]; then
                echo "size=$SIZE students=$expect generated=$(date -u +%Y-%m-%dT%H:%M:%SZ) commit=$COMMIT" >"$DATA/bench-populated"
            fi
        fi
        admin_password "$alog"
        start_server "$slog"
        make_sessions "$WORK/sessions-$backend.txt" 1
        measure_stats "$backend" "$expect" "$expect"
        finish_data
        continue
    fi

    # ---------------------------------------------------- 1. the import through the server
    if [[ -n $REUSED ]]; then
        die "$DATA already holds a population of an earlier run ($(cat "$DATA/bench-populated")); the import needs a fresh one: remove it, or use BENCH_STATS_ONLY=1"
    fi
    say "region without students: hanlin gen --size students=$STUDENTS,parents=1 --into-db --skip students"
    glog="$WORK/logs/gen-$backend.log"
    t0=$(now_ns)
    hanlin gen --size "students=$STUDENTS,parents=1" --out "$WORK/gen-$backend" --into-db --skip students --data-dir "$DATA" \
        >"$glog" 2>&1 || { tail -n 20 "$glog" >&2; die "hanlin gen --into-db --skip students failed on $backend"; }
    gen_lines "$glog" | grep '^imported' | sed 's/^/  /'
    rm -rf "$WORK/gen-$backend"
    say "  done in $(secs_since "$t0") s"
    admin_password "$alog"
    start_server "$slog"
    make_sessions "$WORK/sessions-$backend.txt" "$PROBE_CONNS"
    make_token
    settle_rss

    # ---------------------------------------------------- 3. the bomb through the server
    for entry in "${BOMB_FILES[@]}"; do
        tag=${entry%%:*}
        file=${entry#*:}
        hwm_reset=yes
        reset_hwm "$SERVER_PID" || hwm_reset=no
        rss0=$(proc_kb "$SERVER_PID" VmRSS)
        hwm0=$(proc_kb "$SERVER_PID" VmHWM)
        t0=$(now_ns)
        upload "$file"
        wait_job "$JOB_ID" "job-$tag-$backend"
        took=$(secs_since "$t0")
        hwm1=$(proc_kb "$SERVER_PID" VmHWM)
        status=$(jq -r .status <<<"$JOB_JSON")
        failure=$(jq -r '.failure // ""' <<<"$JOB_JSON")
        if [[ $hwm_reset == yes ]]; then growth=$(mb $((hwm1 - rss0))); else growth=$(mb $((hwm1 - hwm0))); fi
        say "upload of $(basename "$file"): job $JOB_ID $status in $took s: $failure; server RSS $(mb "$rss0") MB before, peak $(mb "$hwm1") MB (+$growth MB)"
        refused=no
        if [[ $status == failed && $failure == *文件解压后过大或压缩比异常* ]]; then
            refused=yes
        else
            problem "$backend: the zip bomb ($tag) job ended $status with failure \"$failure\", not roster-file-too-large (文件解压后过大或压缩比异常)"
        fi
        row "$backend" "bomb upload ($tag): server peak RSS growth MB" "<= $T_BOMB_RSS" "$growth (refused: $refused)" \
            "$([[ $refused == yes ]] && verdict "$growth" $T_BOMB_RSS "<=" || echo FAIL)"
    done

    # The allocator keeps what the bomb jobs used: a fresh server process for the import, so that its
    # peak RSS starts from the server's own baseline. Sessions and the token are in the database.
    if ((${#BOMB_FILES[@]} > 0)); then
        stop_server
        start_server "$WORK/logs/server-$backend-import.log"
        if [[ $(curl -s -o /dev/null -w '%{http_code}' -b "$COOKIE" "$URL/api/v1/me") != 200 ]]; then
            make_sessions "$WORK/sessions-$backend.txt" "$PROBE_CONNS"
            make_token
            settle_rss
        fi
    fi

    # ---------------------------------------------------- the import, with the /me probe
    t_import=$T_IMPORT_SQLITE
    [[ $backend == postgres ]] && t_import=$T_IMPORT_PG
    wait_quiet
    hwm_note=""
    reset_hwm "$SERVER_PID" || hwm_note=" (VmHWM could not be reset: peak since the server started)"
    rss0=$(proc_kb "$SERVER_PID" VmRSS)
    BENCH_COOKIES="$WORK/sessions-$backend.txt" BENCH_DELAY_MS=$PROBE_DELAY_MS \
        wrk -t1 -c"$PROBE_CONNS" -d"${PROBE_SECONDS}s" --latency -s "$REPO/bench/me.lua" "$URL/" >"$WORK/logs/probe-$backend.txt" 2>&1 &
    probe_pid=$!
    BG_PIDS+=("$probe_pid")
    sleep 2
    before=$(cpu_snap)
    t0=$(now_ns)
    upload "$STUDENTS_CSV"
    say "uploaded $(basename "$STUDENTS_CSV") in $UPLOAD_S s: job $JOB_ID"
    wait_job "$JOB_ID" "job-import-$backend" verbose
    import_s=$(secs_since "$t0")
    after=$(cpu_snap)
    hwm1=$(proc_kb "$SERVER_PID" VmHWM)
    # Stop the probe now (wrk prints its figures on SIGINT): its p99 covers the import and the 2 s before it.
    wrk_ticks=$(awk '{print $14 + $15}' "/proc/$probe_pid/stat" 2>/dev/null || echo 0)
    probe_ended_early=""
    if kill -0 "$probe_pid" 2>/dev/null; then kill -INT "$probe_pid"; else probe_ended_early=1; fi
    wait "$probe_pid" || true
    BG_PIDS=()
    probe=$(grep '^RESULT' "$WORK/logs/probe-$backend.txt" || true)
    [[ -n $probe ]] || { cat "$WORK/logs/probe-$backend.txt" >&2; die "the /me probe printed no RESULT"; }
    [[ -n $probe_ended_early ]] && problem "$backend: the /me probe ended before the import did (raise BENCH_PROBE_SECONDS); its p99 covers only the first ${PROBE_SECONDS} s"
    [[ $(field "$probe" non2xx) == 0 ]] || problem "$backend: the /me probe got $(field "$probe" non2xx) answers >= 400 (sessions lost?)"
    cpu=$(cpu_report "$before" "$after" "$import_s" "$wrk_ticks")
    track "$cpu"

    status=$(jq -r .status <<<"$JOB_JSON")
    created=$(jq -r .counts.created <<<"$JOB_JSON")
    job_s=$(jq -r '(.finished_at - .created_at)' <<<"$JOB_JSON")
    say "import $backend: job $JOB_ID $status in $import_s s from the upload's start ($job_s s by the job's own clock, whole seconds): $(jq -c '{total_rows, error_rows, counts}' <<<"$JOB_JSON")"
    say "  server RSS $(mb "$rss0") MB before the upload, peak $(mb "$hwm1") MB during the import$hwm_note (largest at the 0.5 s polls: anonymous $(mb "$PEAK_ANON") MB, file-backed $(mb "$PEAK_FILE") MB) | $cpu"
    say "  /me probe during it: $probe"
    if [[ $status != done ]]; then
        problem "$backend: the import job ended $status: $(jq -r '.failure // ""' <<<"$JOB_JSON") $(curl -s -H "Authorization: Bearer $TOKEN" "$URL/api/v1/imports/$JOB_ID/problems" | head -c 600)"
    fi
    if [[ $created != "$STUDENTS" ]]; then
        problem "$backend: the import created $created students, $STUDENTS expected"
    fi
    import_ok=$([[ $status == done && $created == "$STUDENTS" ]] && echo yes || echo no)
    R[$backend.import_s]=$import_s
    row "$backend" "import $STUDENTS students + parents s" "<= $t_import" "$import_s (job $job_s; $status, created $created)" \
        "$([[ $import_ok == yes ]] && verdict "$import_s" "$t_import" "<=" || echo FAIL)"
    row "$backend" "server peak RSS during the import MB" "<= $T_IMPORT_RSS" "$(mb "$hwm1") (before: $(mb "$rss0"))" \
        "$(verdict "$(mb "$hwm1")" $T_IMPORT_RSS "<=")"
    row "$backend" "/me p99 ms during the import (~$(field "$probe" rps)/s)" "<= $T_PROBE_P99" \
        "$(field "$probe" p99_ms) (max $(field "$probe" max_ms))" "$(verdict "$(field "$probe" p99_ms)" $T_PROBE_P99 "<=")"

    # ---------------------------------------------------- 2. the statistics after it
    measure_stats "$backend" "$STUDENTS" "$STUDENTS"
    if [[ -n $KEEP && $import_ok == yes ]]; then
        echo "size=students=$STUDENTS,parents=1 students=$STUDENTS via=server-import generated=$(date -u +%Y-%m-%dT%H:%M:%SZ) commit=$COMMIT" >"$DATA/bench-populated"
    fi
    finish_data
done

# ---------------------------------------------------------------- summary
say ""
if [[ -n $STATS_ONLY ]]; then
    say "== summary (statistics of the province's child units$([[ -z $KEEP ]] && echo ", population --size $SIZE"); load average now $(cut -d' ' -f1-3 /proc/loadavg))"
else
    say "== summary ($STUDENTS students with a parent each$([[ $STUDENTS != 1000000 ]] && echo "; the import targets are for 1,000,000"); load average now $(cut -d' ' -f1-3 /proc/loadavg))"
fi
printf '%-9s %-50s %-8s %-40s %s\n' backend metric target measured verdict
for r in "${SUMMARY[@]}"; do
    IFS=$'\t' read -r b m t v d <<<"$r"
    printf '%-9s %-50s %-8s %-40s %s\n' "$b" "$m" "$t" "$v" "$d"
done
printf '%s\n' "${SUMMARY[@]}" >"$WORK/logs/summary.tsv"
if ((MAX_OTHER > 10)); then
    say ""
    say "WARNING: other processes took up to ${MAX_OTHER}% CPU (of 100% per core) during the import; the figures"
    say "are depressed by that interference. Re-run on a quiet machine."
fi
if ((${#PROBLEMS[@]} > 0)); then
    say ""
    say "PROBLEMS (the figures they touch are void):"
    printf '  - %s\n' "${PROBLEMS[@]}"
    exit 1
fi
