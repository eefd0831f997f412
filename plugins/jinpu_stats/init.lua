-- plugins/jinpu_stats/init.lua - registers the rule pack and the schema of
-- each domain.  The packs (one file per domain) are built from the blocks
-- in obs.lua; the schemas from schemas.lua.
local jp = require("jinpu")
local schemas = require("jinpu_stats.schemas")

for _, domain in ipairs({ "cherry", "economy", "ip", "workforce" }) do
  jp.register_rules(domain, require("jinpu_stats." .. domain))
  jp.register_schema(domain, schemas[domain])
end
