-- http.lua: wrk script of scripts/bench-http.  Posts prebuilt multipart
-- bodies (read once per thread, cycled in order) and counts the answers
-- by status class.
--
-- Environment:
--   BENCH_BODIES    files holding complete multipart bodies, space separated
--   BENCH_BOUNDARY  their boundary
--   BENCH_PATH      e.g. /api/certificate/validate
--   BENCH_AUTH      an API token (Authorization: Bearer)
--   BENCH_LIMIT     stop each thread after this many answers (0: run for
--                   wrk's -d); the run is bounded by -d either way
--   BENCH_DELAY_MS  each connection waits this long before its next
--                   request (0, the default: at once): paces a run; a
--                   fraction is kept on average (wrk's delay is whole ms:
--                   the next whole number above, as often as the fraction
--                   says)
--   BENCH_BUSY_US   sent as the header X-Bench-Busy-Us when set: the CPU
--                   microseconds tests/bench/fcgi_trivial spends per
--                   request as a stand-in for the engine
--
-- done() prints one line:
--   wrk: requests=N seconds=S rps=R mean_us=M p50_us=A p90_us=B p99_us=C
--        max_us=D s2xx=N s4xx=N s5xx=N other=N sock_errors=N timeouts=N

local bodies = {}
local idx = 0
local limit = 0
local delay_ms = 0
n = 0
s2xx = 0
s4xx = 0
s5xx = 0
other = 0

local threads = {}

function setup(thread)
    table.insert(threads, thread)
end

function init(args)
    local headers = {
        ["Host"] = wrk.headers["Host"],
        ["Content-Type"] = "multipart/form-data; boundary="
            .. os.getenv("BENCH_BOUNDARY"),
        ["Authorization"] = "Bearer " .. os.getenv("BENCH_AUTH"),
    }
    local busy = os.getenv("BENCH_BUSY_US")
    if busy ~= nil and busy ~= "" then
        headers["X-Bench-Busy-Us"] = busy
    end
    for path in string.gmatch(os.getenv("BENCH_BODIES"), "%S+") do
        local f = assert(io.open(path, "rb"))
        local b = f:read("*a")
        f:close()
        bodies[#bodies + 1] = wrk.format("POST", os.getenv("BENCH_PATH"),
            headers, b)
    end
    limit = tonumber(os.getenv("BENCH_LIMIT") or "0") or 0
    delay_ms = tonumber(os.getenv("BENCH_DELAY_MS") or "0") or 0
end

function delay()
    local whole = math.floor(delay_ms)
    if math.random() < delay_ms - whole then
        return whole + 1
    end
    return whole
end

function request()
    idx = idx % #bodies + 1
    return bodies[idx]
end

function response(status, headers, body)
    n = n + 1
    if status >= 200 and status < 300 then
        s2xx = s2xx + 1
    elseif status >= 400 and status < 500 then
        s4xx = s4xx + 1
    elseif status >= 500 then
        s5xx = s5xx + 1
    else
        other = other + 1
    end
    if limit > 0 and n >= limit then
        wrk.thread:stop()
    end
end

function done(summary, latency, requests)
    local c = { s2xx = 0, s4xx = 0, s5xx = 0, other = 0 }
    for _, t in ipairs(threads) do
        for k, _ in pairs(c) do
            c[k] = c[k] + (t:get(k) or 0)
        end
    end
    local e = summary.errors
    local secs = summary.duration / 1e6
    io.write(string.format("wrk: requests=%d seconds=%.3f rps=%.1f "
        .. "mean_us=%.0f p50_us=%d p90_us=%d p99_us=%d max_us=%d "
        .. "s2xx=%d s4xx=%d s5xx=%d other=%d sock_errors=%d timeouts=%d\n",
        summary.requests, secs, summary.requests / secs, latency.mean,
        latency:percentile(50), latency:percentile(90),
        latency:percentile(99), latency.max, c.s2xx, c.s4xx, c.s5xx,
        c.other, e.connect + e.read + e.write, e.timeout))
end
