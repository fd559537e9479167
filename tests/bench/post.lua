-- wrk script for tests/bench/issue: one certificate, one label, no printer.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("AGRICERT_BENCH_TOKEN")
wrk.body = '{"product":"豇豆","quantity":25,"unit":"kg","origin":"福建省安溪县凤城镇",' ..
  '"origin_code":"350524100201","basis":"quality_control","labels":1}'

local non201 = 0
response = function(status, headers, body)
  if status ~= 201 then non201 = non201 + 1 end
end
