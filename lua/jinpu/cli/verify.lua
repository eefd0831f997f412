-- jinpu verify ARCHIVE... : check archives against their manifests.
-- Exit 0 when every archive is intact, 1 when anything is wrong (each
-- problem on its own line), 2 on a usage error, 3 when an archive cannot
-- be read at all (missing file, not an archive).
local jp = require("jinpu")

local usage = [[
usage: jinpu verify [-q] ARCHIVE...
Checks every file of each archive against manifest.yaml and sha256sums.txt
(size and SHA-256), that every file is listed and every listed file is
there, and that the archive itself is sound (checksums of the container,
no hostile entries).  Prints one line per problem.
options:
  -q, --quiet        print only the problems
  --max-size SIZE    refuse archives that inflate to more (default 16G;
                     suffixes K, M, G)
  --max-ratio N      refuse compression ratios above N (default 1000)]]

local function size_arg(s)
  local n, suffix = (s or ""):match("^(%d+)([KkMmGg]?)$")
  if not n then return nil end
  local mult = ({ [""] = 1, k = 1024, m = 1024 ^ 2, g = 1024 ^ 3 })[suffix:lower()]
  return math.tointeger(tonumber(n) * mult)
end

return function(args)
  local files, quiet, limits = {}, false, {}
  local i = 1
  while i <= #args do
    local a = args[i]
    if a == "-h" or a == "--help" then
      print(usage)
      return 0
    elseif a == "-q" or a == "--quiet" then
      quiet = true
    elseif a == "--max-size" then
      limits.max_size = size_arg(args[i + 1])
      if not limits.max_size or limits.max_size < 1 then
        io.stderr:write("jinpu verify: --max-size needs a size such as 500M\n")
        return 2
      end
      i = i + 1
    elseif a == "--max-ratio" then
      limits.max_ratio = tonumber(args[i + 1] or "")
      if not limits.max_ratio or limits.max_ratio < 1 then
        io.stderr:write("jinpu verify: --max-ratio needs a number >= 1\n")
        return 2
      end
      i = i + 1
    elseif a:sub(1, 1) == "-" and a ~= "-" then
      io.stderr:write("jinpu verify: unknown option '" .. a .. "'\n" .. usage .. "\n")
      return 2
    else
      files[#files + 1] = a
    end
    i = i + 1
  end
  if #files == 0 then
    io.stderr:write("jinpu verify: no archive given\n" .. usage .. "\n")
    return 2
  end
  local status = 0
  for _, path in ipairs(files) do
    local ok, problems, how = jp.verify_archive(path, limits)
    if ok then
      if not quiet then
        local a <close> = jp.open_archive(path, limits)
        print(string.format("%s: OK (%d files, %d datasets)", path, #a:files(), #a:list()))
      end
    elseif how == "unreadable" then
      io.stderr:write("jinpu verify: " .. problems[1] .. "\n")
      status = math.max(status, 3)
    else
      for _, p in ipairs(problems) do
        if p:sub(1, #path + 1) == path .. ":" then print(p) else print(path .. ": " .. p) end
      end
      io.stderr:write(string.format("jinpu verify: %s: FAILED (%d problem%s)\n", path, #problems,
        #problems == 1 and "" or "s"))
      status = math.max(status, 1)
    end
  end
  return status
end
