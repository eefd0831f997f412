-- jinpu verify ARCHIVE... : check archives against their manifests.
-- Exit 0 when every archive is intact, 1 when anything is wrong (each
-- problem on its own line), 2 on a usage error, 3 when an archive cannot
-- be read at all (missing file, not an archive).
local jp = require("jinpu")
local args = require("jinpu.cli.args")

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
  local v = math.tointeger(tonumber(n) * mult)
  return v and v >= 1 and v or nil
end

return function(argv)
  local opts, files = args.parse("verify", argv, usage, {
    { "-q", "--quiet", key = "quiet" },
    { "--max-size", key = "max_size", check = size_arg, what = "a size such as 500M" },
    { "--max-ratio", key = "max_ratio", check = function(v)
        local r = tonumber(v)
        return r and r >= 1 and r or nil
      end, what = "a number >= 1" },
  })
  if not opts then return files end
  if #files == 0 then return args.missing("verify", usage, "archive") end
  local quiet, limits = opts.quiet, { max_size = opts.max_size, max_ratio = opts.max_ratio }
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
