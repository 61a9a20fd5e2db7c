-- POST /api/v1/auth/login with valid demo credentials, rotating over the accounts listed (one
-- "login<TAB>password" per line) in the file named by BENCH_CREDENTIALS. Every answer is counted
-- by status; done() prints one machine-readable line:
--   RESULT login requests=N seconds=S ok=N ok_per_s=R s429=N other=N p50_ms=… p99_ms=… max_ms=…
-- (latencies are over all answers, 200 and 429 alike).

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

local reqs = {}
local n = 0
local i = 0
ok, s429, other = 0, 0, 0

function init(args)
  local path = os.getenv("BENCH_CREDENTIALS") or error("BENCH_CREDENTIALS is not set")
  for line in io.lines(path) do
    local login, password = line:match("^([^\t]+)\t(.+)$")
    if login then
      n = n + 1
      local body = string.format('{"login":"%s","password":"%s"}', login, password)
      reqs[n] = wrk.format("POST", "/api/v1/auth/login", { ["Content-Type"] = "application/json" }, body)
    end
  end
  if n == 0 then error("no credentials in " .. path) end
  i = math.random(n) - 1
end

function request()
  i = (i % n) + 1
  return reqs[i]
end

function response(status, headers, body)
  if status == 200 then
    ok = ok + 1
  elseif status == 429 then
    s429 = s429 + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local t_ok, t_429, t_other = 0, 0, 0
  for _, t in ipairs(threads) do
    t_ok = t_ok + t:get("ok")
    t_429 = t_429 + t:get("s429")
    t_other = t_other + t:get("other")
  end
  local s = summary.duration / 1e6
  local e = summary.errors
  local ms = function(us) return string.format("%.2f", us / 1000) end
  io.write(string.format(
    "RESULT login requests=%d seconds=%.2f ok=%d ok_per_s=%.1f s429=%d other=%d errors=%d p50_ms=%s p99_ms=%s max_ms=%s\n",
    summary.requests, s, t_ok, t_ok / s, t_429, t_other,
    e.connect + e.read + e.write + e.timeout,
    ms(latency:percentile(50)), ms(latency:percentile(99)), ms(latency.max)))
end
