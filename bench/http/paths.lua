-- wrk script: each request asks for a path picked at random from the file named by WRK_PATHS (one per line),
-- so a scenario is its path file (random project ids, list pages, map viewports, pages). At the end it prints
-- one JSON line (prefixed "RESULT ") with the counts and latency percentiles in milliseconds.
local paths = {}

local function load(file)
  for line in io.lines(file) do
    if #line > 0 then paths[#paths + 1] = line end
  end
  assert(#paths > 0, "no paths in " .. file)
end

local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("seed", counter)
end

function init(args)
  load(os.getenv("WRK_PATHS"))
  math.randomseed(os.time() + (seed or 0) * 7919)
end

function request()
  return wrk.format("GET", paths[math.random(#paths)])
end

function done(summary, latency, requests)
  local errors = summary.errors
  local seconds = summary.duration / 1e6
  io.write(string.format(
    'RESULT {"requests": %d, "seconds": %.3f, "rps": %.1f, "bytes": %d, "p50_ms": %.2f, "p95_ms": %.2f, ' ..
    '"p99_ms": %.2f, "max_ms": %.2f, "errors_connect": %d, "errors_read": %d, "errors_write": %d, ' ..
    '"errors_status": %d, "errors_timeout": %d}\n',
    summary.requests, seconds, summary.requests / seconds, summary.bytes,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, errors.connect, errors.read, errors.write, errors.status, errors.timeout))
end
