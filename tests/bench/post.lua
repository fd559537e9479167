-- wrk script for tests/bench/issue: one certificate, one label, no printer.
-- AGRICERT_BENCH_PIPELINE requests are sent back to back on each connection
-- (HTTP/1.1 pipelining, as a kiosk gateway or an API client batching would).
local depth = tonumber(os.getenv("AGRICERT_BENCH_PIPELINE") or "1")
local body = '{"product":"豇豆","quantity":25,"unit":"kg","origin":"福建省安溪县凤城镇",' ..
  '"origin_code":"350524103201","basis":"quality_control","labels":1}'
local headers = {
  ["Content-Type"] = "application/json",
  ["Authorization"] = "Bearer " .. os.getenv("AGRICERT_BENCH_TOKEN"),
}
local batch

init = function(args)
  local one = wrk.format("POST", nil, headers, body)
  batch = string.rep(one, depth)
end

request = function()
  return batch
end
