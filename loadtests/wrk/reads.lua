-- The market readers' reads for wrk (a C generator, far lighter than a JVM's on this box), for
-- `./surplus load MarketReaders --wrk` (loadtests/load.sh):
--   reads: book 30%, market list 10%, candles 30%, trades 30% (ReadScenarios' mix) over the
--          markets given, in a fixed cycle;
--   alive: the bare route (GET /health/alive), for the ceiling.
-- Paced at `rate` requests a second (0: each connection asks again as soon as it is answered,
-- for the ceiling): every request takes the next instant of one schedule on the wall clock, so
-- the rate offered does not fall as answers slow, as long as a connection is free (a connection
-- answered late sends at once until it is back on schedule; wrk's timers are whole milliseconds,
-- the schedule is not).
-- Usage: wrk -s reads.lua URL -- <reads|alive> <rate per second> [<market> ...]
-- At the end it prints what it measured (requests, rate, latency percentiles in microseconds,
-- non-2xx answers and socket errors) as properties, one per line.

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } surplus_timespec;
  int clock_gettime(int clock, surplus_timespec *ts);
]]
local CLOCK_MONOTONIC = 1
local ts = ffi.new("surplus_timespec")

local function nowMillis()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local mode = "reads"
local interval = 0 -- ms between two requests of the schedule (0: unpaced)
local nextAt = nil -- the schedule's next instant, ms
local markets = {}
local counter = 0

function init(args)
  mode = args[1] or "reads"
  local rate = tonumber(args[2]) or 0
  interval = rate > 0 and 1000 / rate or 0
  for i = 3, #args do
    markets[#markets + 1] = args[i]
  end
  if mode ~= "alive" and mode ~= "reads" then
    error("reads.lua: unknown mode " .. mode)
  end
  if mode == "reads" and #markets == 0 then
    error("reads.lua: no market given")
  end
  -- each thread starts at a different point of the cycle
  counter = math.random(0, 1000)
end

function request()
  if mode == "alive" then
    return wrk.format("GET", "/health/alive")
  end
  counter = counter + 1
  local m = markets[(counter % #markets) + 1]
  local k = counter % 10 -- 0-2 book, 3 market list, 4-6 candles, 7-9 trades
  local path
  if k < 3 then
    path = "/v1/markets/" .. m .. "/book"
  elseif k == 3 then
    path = "/v1/markets"
  elseif k < 7 then
    path = "/v1/markets/" .. m .. "/candles?interval=1m"
  else
    path = "/v1/markets/" .. m .. "/trades"
  end
  return wrk.format("GET", path)
end

function delay()
  if interval == 0 then
    return 0
  end
  local now = nowMillis()
  if nextAt == nil then
    nextAt = now
  end
  nextAt = nextAt + interval
  local wait = nextAt - now
  return wait > 0 and math.floor(wait) or 0
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local e = summary.errors
  local lines = {
    string.format("requests=%d", summary.requests),
    string.format("seconds=%.3f", seconds),
    string.format("perSecond=%.1f", summary.requests / seconds),
    string.format("p50Micros=%d", latency:percentile(50)),
    string.format("p90Micros=%d", latency:percentile(90)),
    string.format("p99Micros=%d", latency:percentile(99)),
    string.format("p999Micros=%d", latency:percentile(99.9)),
    string.format("maxMicros=%d", latency.max),
    string.format("non2xx=%d", e.status),
    string.format("socketErrors=%d", e.connect + e.read + e.write + e.timeout),
  }
  io.write(table.concat(lines, "\n") .. "\n")
end
