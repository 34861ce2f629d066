-- One `make bench` scenario for wrk, configured by the environment (bench/bench.py sets it):
--   BENCH_METHOD, BENCH_BODY       method and body (default GET, none)
--   BENCH_KEY                      API key, sent as Authorization: Bearer
--   BENCH_COOKIE                   a Cookie header (the dashboard session, for the page)
--   BENCH_IDS_FILE, BENCH_THREADS  purchase mode: POST {"inventory_id": ...}, one distinct id per
--                                  request; thread N of BENCH_THREADS walks every Nth line of the
--                                  file and stops once its share is used up and answered (never
--                                  re-buying)
-- done() prints one line "BENCH_RESULT {json}" for bench.py to read.

local method = os.getenv("BENCH_METHOD") or "GET"
local body = os.getenv("BENCH_BODY")
local key = os.getenv("BENCH_KEY")
local cookie = os.getenv("BENCH_COOKIE")
local ids_file = os.getenv("BENCH_IDS_FILE")

wrk.method = method
if body and body ~= "" then
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
end
if key and key ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. key
end
if cookie and cookie ~= "" then
  wrk.headers["Cookie"] = cookie
end

local threads = {}
local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("tid", thread_count)
  table.insert(threads, thread)
end

if ids_file and ids_file ~= "" then
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  local ffi = require("ffi")
  ffi.cdef [[
    typedef struct { long tv_sec; long tv_usec; } bench_timeval;
    int gettimeofday(bench_timeval *tv, void *tz);
  ]]
  local tv = ffi.new("bench_timeval")
  local function now_us()
    ffi.C.gettimeofday(tv, nil)
    return tonumber(tv.tv_sec) * 1000000 + tonumber(tv.tv_usec)
  end

  local mine = {}
  local next_index = 1
  local filler = nil

  function init(args)
    local nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")
    local n = 0
    for line in io.lines(ids_file) do
      if line ~= "" then
        if n % nthreads == tid - 1 then
          mine[#mine + 1] = line
        end
        n = n + 1
      end
    end
    -- Globals, read back by done() through thread:get().
    c201, c409, cother, first_us, last_us, sent = 0, 0, 0, 0, 0, 0
    other_statuses = ""
    -- Never sent in practice (see delay()); answered 200, it would not be counted.
    filler = wrk.format("GET", "/healthz", {})
  end

  -- Once this thread's ids are used up, its idle connections wait instead of sending the filler
  -- (wrk asks request() first, then delay() for that same request); the last answer stops the
  -- thread (in response()).
  local filler_next = false
  function delay()
    if filler_next then return 60000 end
    return 0
  end

  function request()
    if next_index > #mine then
      filler_next = true
      return filler
    end
    local id = mine[next_index]
    next_index = next_index + 1
    sent = sent + 1
    if first_us == 0 then first_us = now_us() end
    return wrk.format("POST", nil, nil, '{"inventory_id":"' .. id .. '"}')
  end

  function response(status, headers, body)
    if status == 200 then return end -- a filler's answer
    if status == 201 then
      c201 = c201 + 1
    elseif status == 409 then
      c409 = c409 + 1
    else
      cother = cother + 1
      if #other_statuses < 200 then other_statuses = other_statuses .. status .. " " end
    end
    last_us = now_us()
    if c201 + c409 + cother >= #mine then wrk.thread:stop() end
  end
end

function done(summary, latency, requests)
  local out = {
    requests = summary.requests,
    duration_us = summary.duration,
    bytes = summary.bytes,
    err_connect = summary.errors.connect,
    err_read = summary.errors.read,
    err_write = summary.errors.write,
    err_status = summary.errors.status,
    err_timeout = summary.errors.timeout,
    p50_us = latency:percentile(50),
    p90_us = latency:percentile(90),
    p99_us = latency:percentile(99),
    mean_us = latency.mean,
    max_us = latency.max,
  }
  if ids_file and ids_file ~= "" then
    local c201, c409, cother, first, last, sent, others = 0, 0, 0, nil, 0, 0, ""
    for _, t in ipairs(threads) do
      c201 = c201 + t:get("c201")
      c409 = c409 + t:get("c409")
      cother = cother + t:get("cother")
      sent = sent + t:get("sent")
      local f, l = t:get("first_us"), t:get("last_us")
      if f > 0 and (first == nil or f < first) then first = f end
      if l > last then last = l end
      others = others .. t:get("other_statuses")
    end
    out.c201, out.c409, out.cother, out.sent = c201, c409, cother, sent
    out.other_statuses = others
    out.active_us = (first and last > first) and (last - first) or 0
  end
  local parts = {}
  for k, v in pairs(out) do
    if type(v) == "string" then
      parts[#parts + 1] = string.format('"%s":"%s"', k, v)
    else
      parts[#parts + 1] = string.format('"%s":%.17g', k, v)
    end
  end
  io.write("BENCH_RESULT {" .. table.concat(parts, ",") .. "}\n")
end
