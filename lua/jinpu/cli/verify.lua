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
  -q, --quiet   print only the problems]]

return function(args)
  local files, quiet = {}, false
  for _, a in ipairs(args) do
    if a == "-h" or a == "--help" then
      print(usage)
      return 0
    elseif a == "-q" or a == "--quiet" then
      quiet = true
    elseif a:sub(1, 1) == "-" and a ~= "-" then
      io.stderr:write("jinpu verify: unknown option '" .. a .. "'\n" .. usage .. "\n")
      return 2
    else
      files[#files + 1] = a
    end
  end
  if #files == 0 then
    io.stderr:write("jinpu verify: no archive given\n" .. usage .. "\n")
    return 2
  end
  local status = 0
  for _, path in ipairs(files) do
    local ok, problems, how = jp.verify_archive(path)
    if ok then
      if not quiet then
        local a <close> = jp.open_archive(path)
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
