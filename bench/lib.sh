# Shared by the benchmark scripts (sourced, not run). The caller defines QUIET_WAIT and say().

# Waits (up to QUIET_WAIT s) until the CPUs are less than 20% busy over 2 s: other builds, tests,
# browsers on the same cores depress every figure.
wait_quiet() {
    local start=$SECONDS a b said=""
    while :; do
        a=$(awk '/^cpu /{print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat)
        sleep 2
        b=$(awk '/^cpu /{print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat)
        (((b - a) * 100 / (2 * $(getconf CLK_TCK)) < 20)) && return 0
        if ((SECONDS - start > QUIET_WAIT)); then
            say "  (machine still busy after ${QUIET_WAIT} s; measuring anyway)"
            return 0
        fi
        [[ -z $said ]] && say "  (waiting for other processes to leave the CPUs ...)" && said=1
        sleep 3
    done
}

# Stops the server started as SERVER_PID: SIGTERM, up to SERVER_STOP_WAIT (default 5) seconds
# for it to finish its work and exit, then SIGKILL.
stop_server() {
    if [[ -n "${SERVER_PID:-}" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq $((${SERVER_STOP_WAIT:-5} * 10))); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    SERVER_PID=""
}
