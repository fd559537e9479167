-- wrk script for tests/bench/scan: GET scans of genuine codes, round robin.
local paths = {}
local i = 0

init = function(args)
  for line in io.lines(os.getenv("AGRICERT_BENCH_CODES")) do
    paths[#paths + 1] = "/v/" .. line
  end
end

request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i], { ["Accept"] = "application/json" })
end
