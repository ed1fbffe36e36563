-- bench/run.sh "mixed": each wrk thread sends a fixed cycle of four requests to the same path:
--   GET with the valid key (200), DELETE with the valid key (405: not in the pattern's methods),
--   GET with the valid key (200), GET with an unknown key (401).
-- So 50 % allowed, 25 % 405, 25 % 401; wrk counts the 405/401 answers as "non-2xx".
-- BENCH_KEY and BENCH_PATH come from the environment; BENCH_LUA_DIR is where report.lua lives.
dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")

local key = os.getenv("BENCH_KEY")
local path = os.getenv("BENCH_PATH")
local cycle = {}
local i = 0

init = function(args)
  local host = wrk.headers["Host"]
  local allowed = wrk.format("GET", path, { ["Host"] = host, ["Authorization"] = "Bearer " .. key })
  local wrong_method = wrk.format("DELETE", path, { ["Host"] = host, ["Authorization"] = "Bearer " .. key })
  local bad_key = wrk.format("GET", path, { ["Host"] = host, ["Authorization"] = "Bearer not-a-valid-bench-key" })
  cycle = { allowed, wrong_method, allowed, bad_key }
end

request = function()
  i = i % #cycle + 1
  return cycle[i]
end
