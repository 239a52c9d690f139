-- wrk script of bench/postgrest_http.sh (reusable for any HTTP server): one
-- request shape, with a token and a row id picked at random per request.
-- Environment:
--   WRK_METHOD   GET, POST, ... (default GET)
--   WRK_PATH     path template; {id} is replaced by a random row id of the
--                request's tenant: (tenant-1)*WRK_ROWS + random(1, WRK_ROWS)
--   WRK_BODY     body template ({id} replaced too); sent as application/json
--   WRK_TOKENS   file with one line per caller: "TENANT_INDEX JWT" (1-based index)
--   WRK_ROWS     rows per tenant (default 100)
-- At the end it prints one line:
--   RESULT requests=N errors=N non2xx=N rps=R p50_us=.. p99_us=.. p999_us=..
local method = os.getenv("WRK_METHOD") or "GET"
local path_t = os.getenv("WRK_PATH") or "/"
local body_t = os.getenv("WRK_BODY")
local rows = tonumber(os.getenv("WRK_ROWS") or "100")
local tokens, tenants = {}, {}

local f = assert(io.open(os.getenv("WRK_TOKENS"), "r"))
for line in f:lines() do
  local t, jwt = line:match("^(%d+)%s+(%S+)$")
  if t then tenants[#tenants + 1] = tonumber(t); tokens[#tokens + 1] = jwt end
end
f:close()

function init(args)
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 100000)
end

function request()
  local k = math.random(#tokens)
  local id = tostring((tenants[k] - 1) * rows + math.random(rows))
  local headers = { ["Authorization"] = "Bearer " .. tokens[k] }
  local body = nil
  if body_t then
    body = body_t:gsub("{id}", id)
    headers["Content-Type"] = "application/json"
  end
  return wrk.format(method, (path_t:gsub("{id}", id)), headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT requests=%d errors=%d non2xx=%d rps=%.1f p50_us=%d p99_us=%d p999_us=%d\n",
    summary.requests, e.connect + e.read + e.write + e.timeout, e.status,
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9)))
end
