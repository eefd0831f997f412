-- The reduce of the batch tests: OUTPUT_ROOT JOBDIR... -> OUTPUT_ROOT/all.txt,
-- every job's result in the order given.
local out = arg[1]
local parts = {}
for i = 2, #arg do
  local f = assert(io.open(arg[i] .. "/result.txt"))
  parts[#parts + 1] = arg[i] .. "\n" .. f:read("a")
  f:close()
end
local f = assert(io.open(out .. "/all.txt", "w"))
f:write(table.concat(parts))
f:close()
print("combined " .. (#arg - 1) .. " jobs")
