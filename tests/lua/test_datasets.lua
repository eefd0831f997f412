-- test_datasets.lua - the bundled datasets hold every figure of the source
-- article, in base units, with its unit, qualifier and period.
--
-- EXPECTED is the figure inventory of docs/datasets.md.  Values are written
-- the way the article prints them so that each can be checked against the
-- text by eye: 14.8e4 is 14.8万, 2576.3e8 is 2576.3亿.  Columns: indicator,
-- subject (nil = none), period (canonical text), value, unit, qualifier.
local t = require("testlib")
local jp = require("jinpu")

local FILES = { "cherry", "ip", "workforce", "economy" }

local EXPECTED = {
    cherry = {
        { "planted_area",            nil, "2022", 14.8e4, "mu",         "exact" },
        { "annual_output",           nil, "2022", 14e4,   "t",          "more_than" },
        { "output_value",            nil, "2022", 40e8,   "CNY",        "more_than" },
        { "jobs_created",            nil, "2022", 6e4,    "person",     "exact" },
        { "rural_income_per_capita", nil, "2022", 3.78e4, "CNY/person", "at_least" },
    },
    ip = {
        { "ip_strong_county_pilot",                 nil,                         "..2025-07", 1,     "item",            "exact" },
        { "valid_trademark_registrations",          nil,                         "..2021",    25841, "item",            "exact" },
        { "valid_invention_patents",                nil,                         "..2021",    3371,  "item",            "exact" },
        { "invention_patents_per_10k_people",       nil,                         "..2021",    21.8,  "item/10k person", "exact" },
        { "high_value_invention_patents",           nil,                         "..2021",    1014,  "item",            "exact" },
        { "patent_awards",                          nil,                         "..2021",    89,    "item",            "exact" },
        { "firms",                                  "invention_patent_holders",  "..2021",    400,   "firm",            "more_than" },
        { "firms",                                  "ip_standard_certified",     "..2021",    216,   "firm",            "exact" },
        { "firms",                                  "national_ip_advantage",     "..2021",    24,    "firm",            "exact" },
        { "firms",                                  "national_ip_demonstration", "..2021",    2,     "firm",            "exact" },
        { "firms",                                  "high_tech",                 "..2021",    958,   "firm",            "exact" },
        { "firms",                                  "industrial_above_scale",    "..2021",    861,   "firm",            "exact" },
        { "firms",                                  "listed",                    "..2021",    8,     "firm",            "exact" },
        { "firms",                                  "little_giant",              "..2021",    25,    "firm",            "exact" },
        { "firms",                                  "provincial_gazelle",        "..2021",    49,    "firm",            "exact" },
        { "dcmm_maturity_level",                    "detai_holding",             "2022",      2,     "level",           "exact" },
        { "dcmm_certification_rank_in_province",    "detai_holding",             "2022",      1,     "rank",            "exact" },
        { "national_data_management_standard_rank", "dcmm",                      "2022",      1,     "rank",            "exact" },
    },
    workforce = {
        { "talent_policies",           nil,                       "2022",               10,    "item",       "exact" },
        { "subsidy_per_graduate",      "doctor",                  "2022",               20e4,  "CNY/person", "exact" },
        { "subsidy_per_graduate",      "master",                  "2022",               10e4,  "CNY/person", "exact" },
        { "subsidy_per_graduate",      "bachelor",                "2022",               5e4,   "CNY/person", "exact" },
        { "subsidy_payout_years",      nil,                       "2022",               5,     "year",       "exact" },
        { "firms_benefited",           nil,                       "cumulative",         67,    "firm",       "exact" },
        { "graduates_benefited",       nil,                       "cumulative",         363,   "person",     "exact" },
        { "subsidy_funds_paid",        nil,                       "2022",               684e4, "CNY",        "exact" },
        { "skills_competition_years",  nil,                       "last 5 years..2022", 5,     "year",       "exact" },
        { "competition_participants",  nil,                       "last 5 years..2022", 10e4,  "person",     "approx" },
        { "skill_talent_pool_members", nil,                       "last 5 years..2022", 158,   "person",     "exact" },
        { "craftsmen_selected",        "jinpu_craftsman_star",    "last 5 years..2022", 19,    "person",     "exact" },
        { "craftsmen_selected",        "jinpu_skilled_craftsman", "last 5 years..2022", 182,   "person",     "exact" },
        { "innovation_results",        nil,                       "cumulative",         752,   "item",       "exact" },
    },
    economy = {
        { "national_new_area_rank",                   "china",                                    "2022",               10,       "rank",    "exact" },
        { "national_new_area_rank",                   "northeast",                                "2022",               1,        "rank",    "exact" },
        { "gdp",                                      nil,                                        "2021",               2576.3e8, "CNY",     "exact" },
        { "gdp_growth",                               nil,                                        "2021",               9,        "percent", "exact" },
        { "fixed_asset_investment",                   nil,                                        "2021",               400e8,    "CNY",     "more_than" },
        { "fixed_asset_investment_growth",            nil,                                        "2021",               13.5,     "percent", "exact" },
        { "industrial_output_above_scale",            nil,                                        "2021",               3597.5e8, "CNY",     "exact" },
        { "industrial_output_above_scale_growth",     nil,                                        "2021",               15.3,     "percent", "exact" },
        { "fdi_utilised",                             nil,                                        "2021",               11.4e8,   "USD",     "approx" },
        { "fdi_utilised_growth",                      nil,                                        "2021",               650,      "percent", "exact" },
        { "foreign_trade",                            nil,                                        "2021",               2570e8,   "CNY",     "approx" },
        { "foreign_trade_growth",                     nil,                                        "2021",               4,        "percent", "exact" },
        { "urban_economy_rank",                       "china_top50",                              "2021",               50,       "rank",    "at_most" },
        { "northeast_areas_in_urban_economy_top50",   nil,                                        "2021",               1,        "item",    "exact" },
        { "fixed_asset_investment_growth",            nil,                                        "2022-01..2022-08",   13.4,     "percent", "exact" },
        { "projects_started",                         nil,                                        "2022-01..2022-08",   581,      "project", "exact" },
        { "projects_started_growth",                  nil,                                        "2022-01..2022-08",   51.3,     "percent", "exact" },
        { "projects_started_investment",              nil,                                        "2022-01..2022-08",   3548.7e8, "CNY",     "exact" },
        { "projects_started_investment_growth",       nil,                                        "2022-01..2022-08",   66.9,     "percent", "exact" },
        { "reserve_projects_new",                     nil,                                        "2022-01..2022-08",   1381,     "project", "exact" },
        { "reserve_projects_new_growth",              nil,                                        "2022-01..2022-08",   31.7,     "percent", "exact" },
        { "reserve_projects_investment",              nil,                                        "2022-01..2022-08",   5866e8,   "CNY",     "approx" },
        { "economic_strength_rank",                   "northeast_districts",                      "2022",               1,        "rank",    "exact" },
        { "gdp_target",                               "dalian_city",                              "2022..",             1e12,     "CNY",     "more_than" },
        { "area",                                     nil,                                        "2022",               2299,     "km2",     "exact" },
        { "modern_industry_system_parts",             "advantage_manufacturing",                  "2022",               4,        "item",    "exact" },
        { "modern_industry_system_parts",             "strategic_emerging",                       "2022",               3,        "item",    "exact" },
        { "modern_industry_system_parts",             "modern_services",                          "2022",               3,        "item",    "exact" },
        { "modern_industry_system_parts",             "digital_economy",                          "2022",               1,        "item",    "exact" },
        { "development_bays",                         nil,                                        "2022",               4,        "item",    "exact" },
        { "characteristic_parks",                     nil,                                        "2022",               14,       "item",    "exact" },
        { "leading_industry_clusters",                nil,                                        "2022",               5,        "item",    "exact" },
        { "leading_industries_output",                nil,                                        "2021",               2871.1e8, "CNY",     "exact" },
        { "leading_industries_output_share",          nil,                                        "2021",               79.8,     "percent", "exact" },
        { "industrial_growth_commendation_years",     nil,                                        "last 2 years",       2,        "year",    "exact" },
        { "events",                                   "digital_economy_forum",                    "2022-07-12",         1,        "item",    "exact" },
        { "digital_layout_parts",                     "bases",                                    "2022",               3,        "item",    "exact" },
        { "first_of_kind_rank",                       "connected_vehicle_application_dalian",     "2022",               1,        "rank",    "exact" },
        { "first_of_kind_rank",                       "driverless_mobility_service_northeast",    "2022",               1,        "rank",    "exact" },
        { "first_of_kind_rank",                       "driverless_arterial_road_operation_china", "2022",               1,        "rank",    "exact" },
        { "cloud_business_systems",                   nil,                                        "2022",               100,      "item",    "more_than" },
        { "key_projects_under_leader_responsibility", nil,                                        "2022",               124,      "project", "exact" },
        { "key_project_min_investment",               nil,                                        "2022",               500e4,    "CNY",     "at_least" },
        { "signed_projects_investment",               "q3_signing",                               "2022-09-26",         126.6e8,  "CNY",     "exact" },
        { "signed_projects_count_multiple",           "q3_signing",                               "2022-09-26",         2,        "times",   "at_least" },
        { "signed_projects_investment_multiple",      "q3_signing",                               "2022-09-26",         2,        "times",   "at_least" },
        { "startup_package_seals",                    nil,                                        "2022",               5,        "item",    "exact" },
        { "subdistrict_services",                     "enterprise_admin_approvals",               "2022",               500,      "item",    "more_than" },
        { "subdistrict_services",                     "enterprise_insurance",                     "2022",               48,       "item",    "exact" },
        { "first_of_kind_rank",                       "cross_district_services_dalian",           "2022",               1,        "rank",    "exact" },
        { "cross_district_services",                  nil,                                        "2022",               217,      "item",    "exact" },
        { "market_entities_new",                      nil,                                        "2022-01..2022-09",   22811,    "firm",    "exact" },
        { "market_entities_new_growth",               nil,                                        "2022-01..2022-09",   9.92,     "percent", "exact" },
        { "market_entities_total",                    nil,                                        "..2022-09",          223523,   "firm",    "exact" },
        { "market_entities_total_growth",             nil,                                        "..2022-09",          6.97,     "percent", "exact" },
        { "ftz_years_in_operation",                   nil,                                        "last 5 years..2022", 5,        "year",    "exact" },
        { "ftz_institutional_innovations",            nil,                                        "cumulative",         460,      "item",    "more_than" },
        { "ftz_innovations_per_week",                 nil,                                        "2021..",             1,        "item",    "at_least" },
        { "ftz_projects_landed_per_week",             nil,                                        "2021..",             1,        "project", "at_least" },
        { "puwan_layout_parts",                       "bay",                                      "2022",               1,        "item",    "exact" },
        { "puwan_layout_parts",                       "shore",                                    "2022",               2,        "item",    "exact" },
        { "puwan_layout_parts",                       "zone",                                     "2022",               7,        "item",    "exact" },
        { "equipment_ecosystem_scale_target",         nil,                                        "2022..",             1000e8,   "CNY",     "at_least" },
        { "prepared_food_market_scale",               nil,                                        "2022..",             1e12,     "CNY",     "at_least" },
    },
}

local KNOWN_UNITS = {
    CNY = true, USD = true, t = true, mu = true, km2 = true, person = true, firm = true,
    project = true, item = true, percent = true, times = true, year = true, rank = true,
    level = true, ["CNY/person"] = true, ["item/10k person"] = true,
}

local SECTIONS = {
    ["入选国家知识产权强县建设试点县"] = true,
    ["大樱桃获评全国农业生产典型案例"] = true,
    ["实施“名校优才”政策 全球引智"] = true,
    ["“深耕蓝领”计划 促优秀产业工人涌现"] = true,
    ["德泰控股 获DCMM评估认证"] = true,
    ["塑造新优势 迸发新活力 (lead paragraphs)"] = true,
    ["1/“闯”出产业发展新格局"] = true,
    ["2/“创”出对外开放新优势"] = true,
    ["3/“干”出项目建设新成效"] = true,
}

local QUALIFIERS = {
    exact = true, approx = true, at_least = true, more_than = true, at_most = true, less_than = true,
}

local function key(indicator, subject, period)
    return indicator .. "|" .. (subject or "") .. "|" .. tostring(period)
end

local function read_text(path)
    local f = io.open(path, "rb")
    if not f then return nil end
    local s = f:read("a")
    f:close()
    return s
end

-- rows[name][key] = row table
local rows = {}

-- cites[dataset][row] = the citation of that row (datasets/source/citations.yaml)
local CITATIONS = "datasets/source/citations.yaml"
local cites, cites_err
do
    local ok, cds = pcall(jp.load, CITATIONS)
    if ok then
        cites = {}
        for c in cds:rows() do
            cites[c.dataset] = cites[c.dataset] or {}
            cites[c.dataset][c.row] = c
        end
    else
        cites_err = cds
    end
end

for _, name in ipairs(FILES) do
    t.case(name .. ".yaml holds every figure of the article", function()
        local path = "datasets/" .. name .. ".yaml"
        local ok, ds = pcall(jp.load, path)
        t.ok(ok, path .. " loads" .. (ok and "" or ": " .. tostring(ds)))
        if ok then
            local byk, n = {}, 0
            for r in ds:rows() do
                n = n + 1
                local where = path .. " row " .. n
                local k = key(r.indicator, r.subject, r.period)
                t.ok(byk[k] == nil, where .. ": primary key " .. k .. " repeats an earlier row")
                byk[k] = r
                t.ok(type(r.value) == "number" and r.value >= 0, where .. ": value is a number >= 0")
                t.ok(KNOWN_UNITS[r.unit], where .. ": known unit (" .. tostring(r.unit) .. ")")
                t.ok(QUALIFIERS[jp.qualifier(r, "value")], where .. ": qualifier is one of the six")
                t.ok(type(r.label) == "string" and #r.label > 0, where .. ": has a label")
                t.ok(SECTIONS[r.section], where .. ": section is a heading of the article ("
                    .. tostring(r.section) .. ")")
            end
            rows[name] = byk
            t.eq(n, #EXPECTED[name], path .. ": number of rows")
            t.eq(#ds, n, path .. ": #ds agrees with rows()")

            for _, e in ipairs(EXPECTED[name]) do
                local k = key(e[1], e[2], e[3])
                local r = byk[k]
                t.ok(r ~= nil, path .. ": has " .. k)
                if r then
                    t.near(r.value, e[4], 1e-12, path .. ": " .. k .. " value") -- relative tolerance
                    t.eq(r.unit, e[5], path .. ": " .. k .. " unit")
                    t.eq(jp.qualifier(r, "value"), e[6], path .. ": " .. k .. " qualifier")
                    t.eq(tostring(r.period), e[3], path .. ": " .. k .. " period")
                end
            end

            -- Every figure cites the clause of the article that states it; the
            -- label is that clause (datasets/source/citations.yaml).
            local mine, i = cites and cites[name] or {}, 0
            t.ok(cites ~= nil, CITATIONS .. " loads" .. (cites and "" or ": " .. tostring(cites_err)))
            for r in ds:rows() do
                i = i + 1
                local c = mine[i]
                local where = path .. " row " .. i
                t.ok(c ~= nil, where .. ": has a citation in " .. CITATIONS)
                if c then
                    t.eq({ c.field, c.indicator, c.subject, c.period },
                         { "value", r.indicator, r.subject, tostring(r.period) },
                         where .. ": the citation names this row")
                    t.eq(c.clause, r.label, where .. ": the label is the cited clause")
                end
            end
            local extra = 0
            for k in pairs(mine) do if k > n then extra = extra + 1 end end
            t.eq(extra, 0, CITATIONS .. ": no citation of a row " .. path .. " does not have")
        end
    end)
end

-- The clauses are the article's own words, in the paragraph cited, when a
-- copy of its text is at hand: JINPU_ARTICLE names it, or it is found where
-- the datasets' source_file says, beside the repository or one level up.
t.case("the cited clauses are verbatim in the article", function()
    if not cites then return t.ok(false, CITATIONS .. " loads") end
    local src = read_text(CITATIONS)
    local rel = src and src:match("\nsource_file:%s*([^\n]-)%s*\n")
    t.ok(rel ~= nil, CITATIONS .. ": names its source_file")
    local article
    for _, p in ipairs{ os.getenv("JINPU_ARTICLE") or false, "../shared/" .. tostring(rel),
                        "../../shared/" .. tostring(rel) } do
        article = p and read_text(p)
        if article then break end
    end
    if not article then
        print("# the article's text is not at hand (JINPU_ARTICLE=path checks the clauses verbatim);"
            .. " the labels were checked against " .. CITATIONS)
        return
    end
    local paras = {}
    for line in (article .. "\n"):gmatch("([^\n]*)\n") do
        if line:match("%S") then paras[#paras + 1] = line end
    end
    t.ok(paras[1]:find("塑造新优势", 1, true) ~= nil, "paragraph 1 is the title")
    for _, d in pairs(cites) do
        for row, c in pairs(d) do
            local p = paras[c.paragraph]
            t.ok(p ~= nil and p:find(c.clause, 1, true) ~= nil,
                 c.dataset .. " row " .. row .. ": '" .. c.clause .. "' is in paragraph " .. c.paragraph)
        end
    end
end)

t.case("citations are short quotations, not the article", function()
    if not cites then return t.ok(false, CITATIONS .. " loads") end
    local report = jp.load(CITATIONS):validate()
    t.ok(report.ok, CITATIONS .. " is valid: " .. tostring(report))
    local longest, seen, total = 0, {}, 0
    for _, d in pairs(cites) do
        for _, c in pairs(d) do
            local n = utf8.len(c.clause)
            if n > longest then longest = n end
            if not seen[c.clause] then seen[c.clause], total = true, total + n end
        end
    end
    t.ok(longest <= 40, "no clause is longer than 40 characters (" .. longest .. ")")
    t.ok(total < 2000, "all the distinct clauses together are under 2000 characters (" .. total .. ")")
end)


-- Figures that the article states separately must agree with each other.
local function v(name, indicator, subject, period)
    local r = rows[name] and rows[name][key(indicator, subject, period)]
    return r and r.value
end

t.case("economy figures agree with each other", function()
    if rows.economy then
        local share = v("economy", "leading_industries_output", nil, "2021")
            / v("economy", "industrial_output_above_scale", nil, "2021") * 100
        local printed = v("economy", "leading_industries_output_share", nil, "2021")
        t.ok(math.abs(share - printed) < 0.05,
             "five leading industries: output / industrial output rounds to the printed share")
        t.ok(v("economy", "market_entities_new", nil, "2022-01..2022-09")
             < v("economy", "market_entities_total", nil, "..2022-09"),
             "new market entities are fewer than all market entities")
    end
end)

t.case("workforce figures agree with each other", function()
    if rows.workforce then
        local doctor = v("workforce", "subsidy_per_graduate", "doctor", "2022")
        local master = v("workforce", "subsidy_per_graduate", "master", "2022")
        local bachelor = v("workforce", "subsidy_per_graduate", "bachelor", "2022")
        t.ok(doctor > master and master > bachelor, "subsidy is ordered by degree")
        -- A year's payments to the graduates lie between all-bachelor and all-doctor.
        local years = v("workforce", "subsidy_payout_years", nil, "2022")
        local grads = v("workforce", "graduates_benefited", nil, "cumulative")
        local paid = v("workforce", "subsidy_funds_paid", nil, "2022")
        t.ok(paid >= grads * bachelor / years and paid <= grads * doctor / years,
             "funds paid in 2022 fit the graduates and the per-degree subsidy")
    end
end)

t.case("ip figures agree with each other", function()
    if rows.ip then
        t.ok(v("ip", "high_value_invention_patents", nil, "..2021")
             <= v("ip", "valid_invention_patents", nil, "..2021"),
             "high-value invention patents are part of all invention patents")
        -- The per-10k ratio implies the resident population: a magnitude slip
        -- would put it far outside 0.5 to 5 million.
        local pop = v("ip", "valid_invention_patents", nil, "..2021")
            / v("ip", "invention_patents_per_10k_people", nil, "..2021") * 1e4
        t.ok(pop > 5e5 and pop < 5e6, "population implied by the per-10k ratio is plausible")
    end
end)

t.case("cherry figures agree with each other", function()
    if rows.cherry then
        local per_t = v("cherry", "output_value", nil, "2022") / v("cherry", "annual_output", nil, "2022")
        t.ok(per_t > 5e3 and per_t < 2e5, "cherry output value per tonne is a plausible price")
    end
end)

t.done()
