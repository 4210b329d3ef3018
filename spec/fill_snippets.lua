-- Rewrites the output blocks of a Markdown file's runnable snippets with
-- what the snippets print now (see snippets.lua): `make snippets` after a
-- change that alters an output on purpose.  tutorial_spec.lua fails until
-- the documents match the code.
local S = require "snippets"

for _, path in ipairs(arg) do
  local doc = S.read(path)
  local snippets = S.extract(doc)
  for i = #snippets, 1, -1 do -- back to front: offsets stay valid
    local sn = snippets[i]
    if not sn.spec then
      local out = S.run(sn.code, path .. ":" .. sn.line)
      local b = sn.out_block
      doc = doc:sub(1, b.s) .. "```text\n" .. out .. "\n```\n" .. doc:sub(b.e + 1)
    end
  end
  local f = assert(io.open(path, "w"))
  f:write(doc)
  f:close()
  print(("%s: %d snippets"):format(path, #snippets))
end
