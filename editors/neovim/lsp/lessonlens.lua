-- Neovim 0.11+: found on the runtimepath by vim.lsp.config. Use it with
--
--   vim.lsp.config("lessonlens", { settings = { lessonlens = { debounceMs = 0 } } })
--   vim.lsp.enable("lessonlens")
--
-- Lessons, the user commands and code lenses live in lua/lessonlens/init.lua, which sits on the
-- same runtimepath entry. Code lenses are kept up to date from an LspAttach autocommand rather
-- than from on_attach, so that a user's own on_attach (which replaces ours) does not drop them.
local lessonlens = require("lessonlens")

lessonlens.define_commands()
-- LspAttach exists from 0.8; the guard only keeps this file loadable on older versions.
if vim.fn.exists("##LspAttach") == 1 then
  vim.api.nvim_create_autocmd("LspAttach", {
    group = vim.api.nvim_create_augroup("lessonlens_lsp_attach", { clear = true }),
    callback = function(args)
      local client = vim.lsp.get_client_by_id(args.data.client_id)
      if client and client.name == "lessonlens" then
        lessonlens.on_attach(client, args.buf)
      end
    end,
  })
end

return lessonlens.lsp_config()
