-- pandoc filter for the man pages (docs/man/build.sh): a table becomes a list of its rows,
-- each introduced by its first cell and then "Heading: cell" for the others. tbl tables of
-- config.md's width do not fit 80 columns: groff warns (`man --warnings`, lintian) and they
-- read badly in a terminal.
local function cell_blocks(cell)
  return cell.contents or cell
end

local function inlines_of(blocks)
  local out = pandoc.List()
  for i, b in ipairs(blocks) do
    if i > 1 then out:insert(pandoc.Space()) end
    if b.content then out:extend(b.content) end
  end
  return out
end

function Table(t)
  local heads = {}
  if t.head and t.head.rows and #t.head.rows > 0 then
    for i, c in ipairs(t.head.rows[1].cells) do heads[i] = inlines_of(cell_blocks(c)) end
  end
  local items = pandoc.List()
  for _, body in ipairs(t.bodies) do
    for _, row in ipairs(body.body) do
      local cells = row.cells
      local term = inlines_of(cell_blocks(cells[1]))
      local line = pandoc.List()
      for i = 2, #cells do
        if i > 2 then line:insert(pandoc.RawInline('man', '\n.br\n')) end
        if heads[i] and #heads[i] > 0 then
          line:insert(pandoc.Emph(heads[i]))
          line:insert(pandoc.Str(":"))
          line:insert(pandoc.Space())
        end
        line:extend(inlines_of(cell_blocks(cells[i])))
      end
      items:insert({term, {{pandoc.Para(line)}}})
    end
  end
  return pandoc.DefinitionList(items)
end

-- the page's "---" separators between sections: the man headings separate them already
function HorizontalRule()
  return {}
end
