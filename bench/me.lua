-- GET /api/v1/me with session cookies, rotating over the sessions listed (one cookie value per
-- line) in the file named by BENCH_COOKIES. Requests are pre-built in init, so the per-request
-- Lua cost is one table lookup. done() prints one machine-readable line:
--   RESULT me requests=N seconds=S rps=R p50_ms=… p90_ms=… p99_ms=… p999_ms=… max_ms=… errors=E non2xx=E2

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

local reqs = {}
local n = 0
local i = 0

function init(args)
  local path = os.getenv("BENCH_COOKIES") or error("BENCH_COOKIES is not set")
  for line in io.lines(path) do
    if line ~= "" then
      n = n + 1
      reqs[n] = wrk.format("GET", "/api/v1/me", { ["Cookie"] = "hanlin_session=" .. line }, nil)
    end
  end
  if n == 0 then error("no session cookies in " .. path) end
  i = math.random(n) - 1
end

-- BENCH_DELAY_MS: each connection waits that long between an answer and its next request (an
-- open, paced load of "other users" instead of a closed loop that takes every spare CPU cycle).
local pause = tonumber(os.getenv("BENCH_DELAY_MS") or "")
if pause and pause > 0 then
  function delay()
    return pause
  end
end

function request()
  i = (i % n) + 1
  return reqs[i]
end

function done(summary, latency, requests)
  local s = summary.duration / 1e6
  local e = summary.errors
  local ms = function(us) return string.format("%.2f", us / 1000) end
  io.write(string.format(
    "RESULT me requests=%d seconds=%.2f rps=%.0f p50_ms=%s p90_ms=%s p99_ms=%s p999_ms=%s max_ms=%s errors=%d non2xx=%d\n",
    summary.requests, s, summary.requests / s,
    ms(latency:percentile(50)), ms(latency:percentile(90)), ms(latency:percentile(99)),
    ms(latency:percentile(99.9)), ms(latency.max),
    e.connect + e.read + e.write + e.timeout, e.status))
end
