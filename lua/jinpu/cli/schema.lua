-- lua/jinpu/cli/schema.lua - `--schema FILE.yaml` of jinpu info, validate
-- and export: the schema a CSV file is read with, so that its cells are
-- checked and kept with their real types, units and constraints.
--
-- The file is a document in the dataset format (docs/format.md): its
-- `fields` (types, units, titles, constraints) and its `primary_key` and
-- `foreign_keys` are used; its metadata and rows, if any, are not.  It
-- applies to every CSV operand; YAML datasets and archives keep their own
-- schemas.  Never raises: errors are returned as messages naming the file.
local jp = require("jinpu")

local M = {}

function M.is_csv(path)
  local p = path:lower()
  return p:match("%.csv$") or p:match("%.tsv$") or p:match("%.csv%.gz$") or p:match("%.tsv%.gz$")
end

-- The dataset whose schema CSVs are read with, or nil and a message.
function M.load(path)
  if not path:lower():match("%.ya?ml$") then
    return nil, path .. ": --schema takes a YAML document in the dataset format "
      .. "(jinpu: 1 and a fields: list, docs/format.md)"
  end
  local ok, s = pcall(jp.load, path)
  if not ok then return nil, "schema " .. jp.error_message(s) end
  return s
end

-- Usage problem when a schema is given and no operand is a CSV file (it
-- would be ignored), else nil.
function M.unused(files)
  for _, f in ipairs(files) do
    if M.is_csv(f) then return nil end
  end
  return "--schema applies to CSV files, and none was given (a YAML dataset or an archive has its own schema)"
end

return M
