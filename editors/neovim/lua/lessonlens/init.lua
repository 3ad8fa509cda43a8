-- lessonlens for Neovim 0.7+: starts `lessonlens serve` for Python buffers and renders lessons.
--
-- Neovim 0.7 has no vim.lsp.start (0.8), never pulls diagnostics (the server pushes them when
-- the client does not advertise pull) and shows code lenses only after
-- vim.lsp.codelens.refresh(); 0.12 replaces refresh with vim.lsp.codelens.enable(). Where an API
-- can be detected it is (vim.lsp.start, get_clients, codelens.enable), so that a Neovim that
-- back-ports one takes the better path; version checks remain only for changed signatures.
local M = {}

local NAME = "lessonlens"
local SHOW_LESSON = "lessonlens.showLesson"
local MUTE_RULE = "lessonlens.muteRule"
local DISMISS = "lessonlens.dismiss"
-- A custom request that takes no params; the result is `lessonlens progress --json`'s profile.
local PROGRESS = "lessonlens/progress"

local uv = vim.uv or vim.loop

local defaults = {
  cmd = { "lessonlens", "serve" },
  filetypes = {
    "python",
    "javascript",
    "javascriptreact",
    "typescript",
    "typescriptreact",
    "go",
  },
  -- The nearest folder with any of these is the workspace root; the file's own folder otherwise.
  root_markers = { "pyproject.toml", "package.json", "go.mod", ".git" },
  -- Flat camelCase table, exactly as the server reads initializationOptions (see docs/settings.md).
  settings = {},
  -- "float" or "split": where :LessonlensShowLesson, the "Show lesson" action and lenses render.
  lesson_view = "float",
  -- Keep code lenses ("N lessons here") up to date; Neovim before 0.12 only shows them on request.
  codelens = true,
  -- Also accepted: root_dir (function(bufnr) -> folder), capabilities, on_attach, flags: as in
  -- vim.lsp.start_client.
}

local options = vim.deepcopy(defaults)

-- Client ids by root folder, for Neovim 0.7 only: vim.lsp.start does this bookkeeping on 0.8+.
local clients_by_root = {}

local function notify(message, level)
  vim.notify("lessonlens: " .. message, level or vim.log.levels.INFO)
end

-- Client methods became `client:request(...)` in 0.11, where the `client.request(...)` form is
-- deprecated; 0.7-0.10 clients only have the field form.
local function request(client, method, params, handler, bufnr)
  if vim.fn.has("nvim-0.11") == 1 then
    return client:request(method, params, handler, bufnr)
  end
  return client.request(method, params, handler, bufnr)
end

local function clients_for(bufnr)
  if vim.lsp.get_clients then
    return vim.lsp.get_clients({ bufnr = bufnr, name = NAME })
  end
  local found = {}
  -- buf_get_clients returns a map keyed by client id on 0.7, so `#` on it is always 0.
  for _, client in pairs(vim.lsp.buf_get_clients(bufnr)) do
    if client.name == NAME then
      table.insert(found, client)
    end
  end
  return found
end

local function all_clients()
  if vim.lsp.get_clients then
    return vim.lsp.get_clients({ name = NAME })
  end
  local found = {}
  for _, client in pairs(vim.lsp.get_active_clients()) do
    if client.name == NAME then
      table.insert(found, client)
    end
  end
  return found
end

-- The buffer's own client first: team lessons and muted rules are per workspace. A lesson
-- window has no client of its own, so any running lessonlens client stands in.
local function client_for(bufnr)
  return clients_for(bufnr)[1] or all_clients()[1]
end

local function find_root(bufnr)
  local path = vim.api.nvim_buf_get_name(bufnr)
  if path == "" then
    return uv.cwd()
  end
  local start = vim.fn.fnamemodify(path, ":p:h")
  local dir = start
  while true do
    for _, marker in ipairs(options.root_markers) do
      if uv.fs_stat(dir .. "/" .. marker) then
        return dir
      end
    end
    local parent = vim.fn.fnamemodify(dir, ":h")
    if parent == dir then
      return start
    end
    dir = parent
  end
end

-- Buffers whose code lenses lessonlens keeps up to date.
local lens_buffers = {}

local function refresh_codelens(bufnr)
  if vim.lsp.codelens.enable then
    -- 0.12+ re-requests lenses by itself once enabled.
    return
  elseif vim.fn.has("nvim-0.10") == 1 then
    vim.lsp.codelens.refresh({ bufnr = bufnr })
  elseif bufnr == vim.api.nvim_get_current_buf() then
    -- 0.7-0.9 refresh only the current buffer and take no arguments.
    vim.lsp.codelens.refresh()
  end
end

-- After a dismissal or a muted rule the server republishes (push) or asks for a refresh (pull),
-- but Neovim 0.10-0.11 pull diagnostics without advertising
-- workspace.diagnostics.refreshSupport, so the server may not ask and the hidden hint would stay
-- until the next edit. Pull again for those clients; the server's result ids change with every
-- dismissal, so the new pull is never answered "unchanged".
local function show_hidden_hints(client)
  local pulls = vim.lsp.diagnostic.on_diagnostic ~= nil
    and (client.server_capabilities or {}).diagnosticProvider ~= nil
  local refreshes = pulls
    and vim.tbl_get(client, "capabilities", "workspace", "diagnostics", "refreshSupport")
  for _, bufnr in ipairs(vim.lsp.get_buffers_by_client_id(client.id)) do
    if pulls and not refreshes then
      local params = { textDocument = vim.lsp.util.make_text_document_params(bufnr) }
      request(client, "textDocument/diagnostic", params, nil, bufnr)
    end
    if lens_buffers[bufnr] then
      refresh_codelens(bufnr)
    end
  end
end

-- Lesson rendering ------------------------------------------------------------------------

local function lesson_lines(result)
  -- One lesson id gives {title, markdown}; a list of ids (a code lens) gives a list of them.
  local items = result.markdown ~= nil and { result } or result
  local lines = {}
  for index, item in ipairs(items) do
    if index > 1 then
      vim.list_extend(lines, { "", "---", "" })
    end
    local text = (item.markdown or ""):gsub("\r\n", "\n")
    vim.list_extend(lines, vim.split(text, "\n", { plain = true }))
  end
  return lines
end

local function lesson_buffer(name, lines)
  -- Reuse the buffer of a lesson that is already open: a second buffer with the same name
  -- would make nvim_buf_set_name fail.
  local buf
  for _, candidate in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_get_name(candidate) == name then
      buf = candidate
    end
  end
  if not buf then
    buf = vim.api.nvim_create_buf(false, true)
    vim.api.nvim_buf_set_name(buf, name)
  end
  vim.bo[buf].buftype = "nofile"
  vim.bo[buf].bufhidden = "wipe"
  vim.bo[buf].swapfile = false
  vim.bo[buf].modifiable = true
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.bo[buf].modifiable = false
  -- Last, so that FileType autocommands (markdown plugins, treesitter) see the final text; only
  -- once per buffer, since setting it again runs the ftplugin's undo and redo for nothing.
  if vim.bo[buf].filetype ~= "markdown" then
    vim.bo[buf].filetype = "markdown"
  end
  local opts = { noremap = true, silent = true, nowait = true }
  vim.api.nvim_buf_set_keymap(buf, "n", "q", "<cmd>close<CR>", opts)
  return buf
end

local function open_float(buf, lines)
  local width = math.max(20, math.min(86, vim.o.columns - 4))
  -- Lessons wrap; count screen rows rather than lines so that the float is not cut short.
  local rows = 0
  for _, line in ipairs(lines) do
    rows = rows + math.max(1, math.ceil(vim.fn.strdisplaywidth(line) / width))
  end
  local height = math.max(1, math.min(rows, math.floor((vim.o.lines - 2) * 0.8)))
  local win = vim.api.nvim_open_win(buf, true, {
    relative = "editor",
    width = width,
    height = height,
    row = math.floor((vim.o.lines - height) / 2) - 1,
    col = math.floor((vim.o.columns - width) / 2),
    style = "minimal",
    border = "rounded",
  })
  vim.wo[win].wrap = true
  vim.wo[win].linebreak = true
  -- A float left behind when the cursor goes elsewhere would cover the code.
  vim.api.nvim_create_autocmd("WinLeave", {
    buffer = buf,
    once = true,
    callback = function()
      vim.schedule(function()
        if vim.api.nvim_win_is_valid(win) then
          vim.api.nvim_win_close(win, true)
        end
      end)
    end,
  })
  return win
end

local function open_split(buf, lines)
  for _, win in ipairs(vim.api.nvim_list_wins()) do
    if vim.api.nvim_win_get_buf(win) == buf then
      vim.api.nvim_set_current_win(win)
      return win
    end
  end
  vim.cmd("botright split")
  local win = vim.api.nvim_get_current_win()
  vim.api.nvim_win_set_buf(win, buf)
  vim.api.nvim_win_set_height(win, math.max(5, math.min(#lines, math.floor(vim.o.lines / 2))))
  vim.wo[win].wrap = true
  vim.wo[win].linebreak = true
  return win
end

--- Show the Markdown a `lessonlens.showLesson` command returned, in a float or a split.
function M.render_lesson(result, ids, view)
  local lines = lesson_lines(result)
  if #lines == 0 then
    notify("no lesson to show", vim.log.levels.WARN)
    return nil
  end
  local buf = lesson_buffer("lessonlens://lesson/" .. table.concat(ids, ","), lines)
  vim.b[buf].lessonlens_lessons = ids
  if (view or options.lesson_view) == "split" then
    return open_split(buf, lines)
  end
  return open_float(buf, lines)
end

--- Ask the server for lessons (an id or a list of ids) and render them.
function M.show_lesson(ids, opts)
  opts = opts or {}
  if type(ids) == "string" then
    ids = { ids }
  end
  local bufnr = opts.bufnr or vim.api.nvim_get_current_buf()
  local client = opts.client_id and vim.lsp.get_client_by_id(opts.client_id) or client_for(bufnr)
  if not client then
    notify("the server is not running", vim.log.levels.WARN)
    return
  end
  -- One id is sent bare and a list as a list, the two shapes the server accepts.
  local argument = #ids == 1 and ids[1] or ids
  local params = { command = SHOW_LESSON, arguments = { argument } }
  request(client, "workspace/executeCommand", params, function(err, result)
    if err then
      notify(err.message or tostring(err), vim.log.levels.WARN)
    elseif result == nil or result == vim.NIL then
      notify("no lesson " .. table.concat(ids, ", "), vim.log.levels.WARN)
    else
      M.render_lesson(result, ids, opts.view)
    end
  end, bufnr)
end

-- Client-side handler for the command that code actions and code lenses carry. Neovim's
-- default would send workspace/executeCommand and drop the result, which is the lesson itself.
local function show_lesson_command(command, ctx)
  local ids = {}
  for _, argument in ipairs(command.arguments or {}) do
    if type(argument) == "table" then
      vim.list_extend(ids, argument)
    else
      table.insert(ids, argument)
    end
  end
  if #ids == 0 then
    notify("the lesson command came without a lesson", vim.log.levels.WARN)
    return
  end
  M.show_lesson(ids, { bufnr = ctx and ctx.bufnr, client_id = ctx and ctx.client_id })
end

-- Run a hiding command (dismiss, mute) on the server, then make sure the hint disappears.
local function hide(client, command, arguments, bufnr, done)
  local params = { command = command, arguments = arguments }
  request(client, "workspace/executeCommand", params, function(err)
    if err then
      notify(err.message or tostring(err), vim.log.levels.WARN)
      return
    end
    show_hidden_hints(client)
    if done then
      done()
    end
  end, bufnr)
end

local function hide_command(command, ctx)
  local client = ctx and ctx.client_id and vim.lsp.get_client_by_id(ctx.client_id)
  if client then
    hide(client, command.command, command.arguments, ctx.bufnr)
  end
end

--- The client-side command table, for a client config's `commands` field.
function M.client_commands()
  return {
    [SHOW_LESSON] = show_lesson_command,
    [DISMISS] = hide_command,
    [MUTE_RULE] = hide_command,
  }
end

-- Progress --------------------------------------------------------------------------------

local STATUS_WORDS = {
  learning = "learning",
  quiet = "quiet",
  mastered = "mastered",
  claimed = "known (you said)",
  off = "not a team priority",
}
local ARROWS = { up = "↑", down = "↓", flat = "→" }

-- JSON null arrives as vim.NIL, which is truthy: every optional field goes through this.
local function present(value)
  if value == nil or value == vim.NIL then
    return nil
  end
  return value
end

local function cell(text)
  return (tostring(text):gsub("|", "\\|"))
end

--- The profile `lessonlens/progress` returns, as Markdown lines.
function M.progress_lines(profile)
  local lines = { "# My lessonlens progress", "" }
  local rows = type(present(profile.skills)) == "table" and profile.skills or {}
  if #rows == 0 then
    table.insert(lines, "No progress recorded yet: lessonlens records it as you work.")
  else
    vim.list_extend(lines, {
      "| Skill | Mastery | Trend | Lessons seen | Status |",
      "|---|---|:-:|--:|---|",
    })
    for _, row in ipairs(rows) do
      local p = math.max(0, math.min(1, tonumber(present(row.p_known)) or 0))
      local filled = math.floor(p * 10 + 0.5)
      local bar = string.rep("█", filled) .. string.rep("░", 10 - filled)
      local status = present(row.status) or ""
      table.insert(
        lines,
        string.format(
          "| %s | %s %3d%% | %s | %d | %s |",
          cell(present(row.name) or present(row.id) or "?"),
          bar,
          math.floor(p * 100 + 0.5),
          ARROWS[present(row.trend_direction) or "flat"] or ARROWS.flat,
          type(present(row.lessons_seen)) == "table" and #row.lessons_seen or 0,
          cell(STATUS_WORDS[status] or status)
        )
      )
    end
  end
  local next_lesson = present(profile.next_lesson)
  if type(next_lesson) == "table" then
    local skill = present(next_lesson.skill_name)
    table.insert(lines, "")
    table.insert(
      lines,
      string.format(
        "Next suggested lesson: **%s**%s, `:LessonlensShowLesson %s`",
        next_lesson.title,
        skill and (" (" .. skill .. ")") or "",
        next_lesson.id
      )
    )
    if present(next_lesson.url) then
      table.insert(lines, next_lesson.url)
    end
  end
  table.insert(lines, "")
  if present(profile.sharing) == true then
    table.insert(lines, "Sharing is on (shareProgress).")
  else
    table.insert(lines, "Sharing is off (shareProgress): your progress stays on this machine.")
  end
  table.insert(lines, "`lessonlens progress --forget` in a terminal deletes it.")
  return lines
end

--- Ask the server for the developer's progress and show it like a lesson.
function M.show_progress(opts)
  opts = opts or {}
  local bufnr = opts.bufnr or vim.api.nvim_get_current_buf()
  local client = client_for(bufnr)
  if not client then
    notify("the server is not running", vim.log.levels.WARN)
    return
  end
  -- No params, but an empty object rather than none: nil would leave out the `params` member,
  -- and pygls 2.1 answers a request without one with "Internal Error".
  request(client, PROGRESS, vim.empty_dict(), function(err, result)
    if err then
      notify(err.message or tostring(err), vim.log.levels.WARN)
    elseif type(present(result)) ~= "table" then
      notify("the server sent no progress", vim.log.levels.WARN)
    else
      local lines = M.progress_lines(result)
      local buf = lesson_buffer("lessonlens://progress", lines)
      if (opts.view or options.lesson_view) == "split" then
        open_split(buf, lines)
      else
        open_float(buf, lines)
      end
    end
  end, bufnr)
end

-- User commands ---------------------------------------------------------------------------

local function lesson_of(diagnostic)
  -- user_data.lsp holds the server's diagnostic: a few fields on 0.7, all of them on 0.10+.
  local lsp = diagnostic.user_data and diagnostic.user_data.lsp or {}
  local data = lsp.data
  if type(data) == "string" and data ~= "" then
    return data
  end
  return nil
end

local function buffer_diagnostics(bufnr, filter)
  local found = {}
  for _, diagnostic in ipairs(vim.diagnostic.get(bufnr, filter)) do
    if diagnostic.source == NAME then
      table.insert(found, diagnostic)
    end
  end
  return found
end

local function lesson_at_cursor()
  local row, col = unpack(vim.api.nvim_win_get_cursor(0))
  local on_line = buffer_diagnostics(0, { lnum = row - 1 })
  -- Diagnostic columns are byte columns on every version, like the cursor's.
  for _, diagnostic in ipairs(on_line) do
    local end_col = diagnostic.end_lnum == diagnostic.lnum and diagnostic.end_col or math.huge
    local under = diagnostic.col <= col and col < math.max(end_col, diagnostic.col + 1)
    if under and lesson_of(diagnostic) then
      return lesson_of(diagnostic)
    end
  end
  for _, diagnostic in ipairs(on_line) do
    if lesson_of(diagnostic) then
      return lesson_of(diagnostic)
    end
  end
  return nil
end

local function complete_from_diagnostics(pick)
  return function(lead)
    local seen, items = {}, {}
    for _, diagnostic in ipairs(buffer_diagnostics(0)) do
      local item = pick(diagnostic)
      if item and not seen[item] and item:sub(1, #lead) == lead then
        seen[item] = true
        table.insert(items, item)
      end
    end
    table.sort(items)
    return items
  end
end

local function show_lesson_user_command(args)
  local id = vim.trim(args.args or "")
  if id == "" then
    id = lesson_at_cursor()
    if not id then
      notify("no hint under the cursor; give a lesson id", vim.log.levels.WARN)
      return
    end
  else
    -- A rule id (PY001) is what people see in the hint: map it through the buffer's hints.
    for _, diagnostic in ipairs(buffer_diagnostics(0)) do
      if diagnostic.code == id and lesson_of(diagnostic) then
        id = lesson_of(diagnostic)
        break
      end
    end
  end
  M.show_lesson(id)
end

local function mute_rule_user_command(args)
  local rule = vim.trim(args.args or "")
  local clients = clients_for(0)
  if #clients == 0 then
    -- Muting is per workspace; from a buffer without a client, mute it everywhere.
    clients = all_clients()
  end
  if #clients == 0 then
    notify("the server is not running", vim.log.levels.WARN)
    return
  end
  for _, client in ipairs(clients) do
    hide(client, MUTE_RULE, { rule }, nil, function()
      notify(rule .. " muted for this session")
    end)
  end
end

--- Define :LessonlensShowLesson, :LessonlensMuteRule and :LessonlensProgress (idempotent).
function M.define_commands()
  vim.api.nvim_create_user_command("LessonlensShowLesson", show_lesson_user_command, {
    nargs = "?",
    desc = "Show the lesson for the hint under the cursor, or for a lesson or rule id",
    complete = complete_from_diagnostics(lesson_of),
  })
  vim.api.nvim_create_user_command("LessonlensMuteRule", mute_rule_user_command, {
    nargs = 1,
    desc = "Stop showing a lessonlens rule for this session",
    complete = complete_from_diagnostics(function(diagnostic)
      return diagnostic.code and tostring(diagnostic.code) or nil
    end),
  })
  vim.api.nvim_create_user_command("LessonlensProgress", function()
    M.show_progress()
  end, {
    nargs = 0,
    desc = "Show your lessonlens skills: mastery, trend, lessons seen, next lesson",
  })
end

-- Attaching -------------------------------------------------------------------------------

--- Keep the buffer's code lenses shown; called once per (client, buffer).
function M.on_attach(client, bufnr)
  local enabled = vim.g.lessonlens_codelens
  if enabled == nil then
    enabled = options.codelens
  end
  if not enabled or lens_buffers[bufnr] then
    return
  end
  local capabilities = client.server_capabilities or client.resolved_capabilities or {}
  if not capabilities.codeLensProvider and not capabilities.code_lens then
    return
  end
  lens_buffers[bufnr] = true
  if vim.lsp.codelens.enable then
    vim.lsp.codelens.enable(true, { bufnr = bufnr })
    return
  end
  refresh_codelens(bufnr)
  local group = vim.api.nvim_create_augroup("lessonlens_codelens_" .. bufnr, { clear = true })
  vim.api.nvim_create_autocmd({ "BufEnter", "CursorHold", "InsertLeave", "BufWritePost" }, {
    group = group,
    buffer = bufnr,
    callback = function()
      refresh_codelens(bufnr)
    end,
  })
  vim.api.nvim_create_autocmd("BufWipeout", {
    group = group,
    buffer = bufnr,
    callback = function()
      lens_buffers[bufnr] = nil
    end,
  })
end

--- The client configuration shared by setup() and lsp/lessonlens.lua.
function M.lsp_config()
  return {
    name = NAME,
    cmd = vim.deepcopy(defaults.cmd),
    filetypes = vim.deepcopy(defaults.filetypes),
    root_markers = vim.deepcopy(defaults.root_markers),
    commands = M.client_commands(),
    -- One place for settings: the `lessonlens` section that workspace/configuration answers
    -- from also fills initializationOptions, so the first analysis already uses them.
    before_init = function(params, config)
      local section = config.settings and config.settings.lessonlens
      local init = params.initializationOptions
      if section and (init == nil or init == vim.NIL or next(init) == nil) then
        params.initializationOptions = section
      end
    end,
  }
end

local function client_config(bufnr)
  local settings = options.settings
  if next(settings) == nil then
    -- An empty Lua table would go out as a JSON array.
    settings = vim.empty_dict()
  end
  local root = type(options.root_dir) == "function" and options.root_dir(bufnr) or find_root(bufnr)
  local config = M.lsp_config()
  config.cmd = options.cmd
  config.root_dir = root
  config.init_options = settings
  config.settings = { lessonlens = settings }
  config.capabilities = options.capabilities
  config.flags = options.flags
  config.filetypes = nil
  config.root_markers = nil
  config.on_attach = function(client, attached)
    M.on_attach(client, attached)
    if options.on_attach then
      options.on_attach(client, attached)
    end
  end
  return config
end

local function start_0_7(bufnr, config)
  local id = clients_by_root[config.root_dir]
  local client = id and vim.lsp.get_client_by_id(id)
  if not client or client.is_stopped() then
    config.on_exit = function(_, _, exited)
      if clients_by_root[config.root_dir] == exited then
        clients_by_root[config.root_dir] = nil
      end
    end
    local ok, started = pcall(vim.lsp.start_client, config)
    if not ok or not started then
      local command = table.concat(config.cmd, " ")
      notify("could not start " .. command .. ": " .. tostring(started), vim.log.levels.ERROR)
      return nil
    end
    id = started
    clients_by_root[config.root_dir] = id
  end
  vim.lsp.buf_attach_client(bufnr, id)
  return id
end

--- Start (or reuse) the server for a buffer and attach it.
function M.attach(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  -- Help, quickfix and scratch buffers have no file the server could speak about.
  if vim.bo[bufnr].buftype ~= "" then
    return nil
  end
  local config = client_config(bufnr)
  if vim.lsp.start then
    return vim.lsp.start(config, { bufnr = bufnr })
  end
  return start_0_7(bufnr, config)
end

--- Configure lessonlens and start it for every buffer of the configured filetypes.
function M.setup(opts)
  options = vim.tbl_deep_extend("force", vim.deepcopy(defaults), opts or {})
  -- Lists replace the defaults rather than merging index by index.
  for _, key in ipairs({ "cmd", "filetypes", "root_markers" }) do
    if opts and opts[key] then
      options[key] = opts[key]
    end
  end
  if opts and opts.settings then
    options.settings = opts.settings
  end
  M.define_commands()
  local group = vim.api.nvim_create_augroup("lessonlens", { clear = true })
  vim.api.nvim_create_autocmd("FileType", {
    group = group,
    pattern = options.filetypes,
    callback = function(args)
      M.attach(args.buf)
    end,
  })
  -- setup() may run after buffers are open (lazy loading); FileType has fired for those.
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    local filetype = vim.bo[bufnr].filetype
    if vim.api.nvim_buf_is_loaded(bufnr) and vim.tbl_contains(options.filetypes, filetype) then
      M.attach(bufnr)
    end
  end
end

return M
