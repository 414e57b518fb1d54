-- wrk script for the ingest benchmark (closed loop, at saturation): POST a prepared batch,
-- with every `@@ID@@` replaced by a fresh 32-hex event id, unique across threads and runs and
-- random in its first half, as the SDK's ids are (`crypto.getRandomValues`): ids that grow
-- in order would let the store's id index append to one page instead of touching a page per
-- event, and understate what real traffic costs it.
-- Set BODY (the template file) in the environment; wrk passes no arguments to the request.
-- done() prints one JSON line with requests, statuses and latency percentiles.

local template = nil
local counter = 0
tid = 0 -- set per thread by setup()
local nonce = os.getenv("NONCE") or "0000000000000000"
local threads = {}
local next_tid = 0

function setup(thread)
  next_tid = next_tid + 1
  thread:set("tid", next_tid)
  table.insert(threads, thread)
end

function init(args)
  local f = assert(io.open(os.getenv("BODY"), "r"))
  template = f:read("*a")
  f:close()
  math.randomseed(tonumber(nonce:sub(-8), 16) + tid * 7919)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  non2xx = 0
end

function request()
  local body = template:gsub("@@ID@@", function()
    counter = counter + 1
    -- 64 random bits, then what makes the id unique: the thread and its counter.
    return string.format("%04x%04x%04x%04x%04x%012x", math.random(0, 65535), math.random(0, 65535),
      math.random(0, 65535), math.random(0, 65535), tid, counter)
  end)
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  if status >= 300 then non2xx = non2xx + 1 end
end

function done(summary, latency, requests)
  local bad = 0
  for _, t in ipairs(threads) do bad = bad + (t:get("non2xx") or 0) end
  io.write(string.format(
    '{"requests":%d,"duration_s":%.3f,"non2xx":%d,"socket_errors":%d,"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f}\n',
    summary.requests, summary.duration / 1e6, bad,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000))
end
