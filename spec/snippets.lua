-- The runnable snippets of a Markdown file: every ```lua block that is
-- followed (after prose, if any) by a ```text block is a snippet, and the
-- text block is what it prints.  A ```lua block whose first line is
-- "-- spec/..." is a Busted spec instead.  `run` executes a snippet in a
-- fresh environment and returns what it printed.
local M = {}

function M.read(path)
  local f = assert(io.open(path, "r"))
  local s = f:read("a")
  f:close()
  return s
end

--- { { code=, output=, line=, spec= }, ... } in document order.
function M.extract(doc)
  local blocks, pos, line = {}, 1, 1
  while true do
    local s, e, lang, body = doc:find("\n```(%w+)\n(.-)\n```\n", pos)
    if not s then break end
    local _, nl = doc:sub(pos, s):gsub("\n", "")
    line = line + nl
    blocks[#blocks + 1] = { lang = lang, body = body, line = line + 1, s = s, e = e }
    pos = e - 1
  end
  local snippets = {}
  for i, b in ipairs(blocks) do
    if b.lang == "lua" then
      local nextb = blocks[i + 1]
      if b.body:match("^%-%- spec/") then
        snippets[#snippets + 1] = { code = b.body, line = b.line, spec = true }
      elseif nextb and nextb.lang == "text" then
        snippets[#snippets + 1] = { code = b.body, line = b.line, output = nextb.body, out_block = nextb }
      end
    end
  end
  return snippets
end

--- Runs a snippet; returns what it printed (lines joined by "\n").
function M.run(code, name)
  local out = {}
  local env = setmetatable({
    print = function(...)
      local t = table.pack(...)
      for i = 1, t.n do t[i] = tostring(t[i]) end
      out[#out + 1] = table.concat(t, "\t", 1, t.n)
    end,
  }, { __index = _G })
  local chunk = assert(load(code, "=" .. name, "t", env))
  chunk()
  collectgarbage() -- objects of the snippet go before the next one runs
  return table.concat(out, "\n")
end

return M
