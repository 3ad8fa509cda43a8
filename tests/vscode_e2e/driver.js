// driver.js: one session in a running code-server (a real VS Code), driven with headless Chromium
// through puppeteer-core, for tests/test_vscode.py. It opens a file, waits for the Problems panel
// to list hints, hovers one with the mouse, applies a quick fix from the Ctrl+. menu and saves;
// then prints what it saw as one JSON line on stdout (its progress goes to stderr). The
// assertions live in the test, so that a failure shows the whole session. Every wait is bounded;
// on a failure it saves failure.png and reports {"error": ...} with what it had seen so far.
//
// Input: one JSON object in the DRIVER_INPUT environment variable:
//   url, folder, file (a name in the folder), chromium, shots (a folder for screenshots),
//   codes: the rule ids the Problems panel must list,
//   hover: {line, column}: a 1-based position inside the hint whose hover is read,
//   fix: {line, column, title, code, expect}: where to press Ctrl+., the title of the action to
//     choose, the rule id of the hint it fixes, and text the editor shows once it is applied,
//   timeouts: {load, problems, step} in milliseconds.
"use strict";
const fs = require("fs");
const path = require("path");
const puppeteer = require("puppeteer-core");

const input = JSON.parse(process.env.DRIVER_INPUT);
const timeouts = { load: 60000, problems: 60000, step: 15000, ...input.timeouts };
const started = Date.now();
const result = { steps: [] };

function log(message) {
  const line = `[${((Date.now() - started) / 1000).toFixed(1)} s] ${message}`;
  result.steps.push(line);
  process.stderr.write(line + "\n");
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// "Control+Shift+KeyM": the modifiers down in order, the key pressed, the modifiers up.
async function chord(page, keys) {
  const parts = keys.split("+");
  const key = parts.pop();
  for (const modifier of parts) await page.keyboard.down(modifier);
  await page.keyboard.press(key);
  for (const modifier of parts.reverse()) await page.keyboard.up(modifier);
}

// Polls `fn` in the page until it returns a truthy value, for at most `timeout` ms; the error
// says what it was waiting for.
async function waitFor(page, what, fn, timeout, ...args) {
  try {
    const handle = await page.waitForFunction(fn, { timeout, polling: 250 }, ...args);
    return await handle.jsonValue();
  } catch (error) {
    throw new Error(`timed out after ${timeout} ms waiting for ${what}: ${error.message}`);
  }
}

// Functions evaluated in the page.

function quickInputOpen() {
  const widget = document.querySelector(".quick-input-widget");
  return widget !== null && widget.style.display !== "none" && widget.offsetParent !== null;
}

// The Problems panel's markers: message, source, code (the rule id, a link to its lesson) and
// where ("[Ln 7, Col 12]"). The file rows above them have no message.
function problemRows() {
  const text = (row, selector) => {
    const element = row.querySelector(selector);
    return element === null ? null : element.innerText.trim();
  };
  return [...document.querySelectorAll(".markers-panel .monaco-list-row")]
    .filter((row) => row.querySelector(".marker-message") !== null)
    .map((row) => {
      const link = row.querySelector(".marker-code")?.closest("a");
      return {
        message: text(row, ".marker-message"),
        source: text(row, ".marker-source"),
        code: text(row, ".marker-code"),
        href: link ? link.getAttribute("href") : null,
        line: text(row, ".marker-line"),
      };
    });
}

// An error notification from the extension ("lessonlens could not start: ..."), or null.
function lessonlensError() {
  for (const item of document.querySelectorAll(".notifications-toasts .notification-list-item")) {
    const text = item.innerText.replace(/\s+/g, " ").trim();
    if (item.querySelector(".codicon-error") !== null && text.includes("lessonlens")) return text;
  }
  return null;
}

// True once every rule id is listed; the extension's error instead, if it shows one.
function listsCodes(codes) {
  const failed = lessonlensError();
  if (failed !== null) return { failed };
  const seen = new Set(problemRows().map((row) => row.code));
  return codes.every((code) => seen.has(code));
}

function listsNoCode(code) {
  return !problemRows().some((row) => row.code === code);
}

// The visible hover once it shows the server's part (the lesson, which has headings).
function lessonHover() {
  const widget = [...document.querySelectorAll(".monaco-hover")].find(
    (element) => element.offsetParent !== null && !element.classList.contains("hidden"),
  );
  if (widget === undefined) return null;
  const headings = [...widget.querySelectorAll("h1, h2, h3")].map((h) => h.innerText.trim());
  return headings.length > 0 ? { text: widget.innerText, headings } : null;
}

function quickFixMenu() {
  const widget = document.querySelector(".action-widget");
  if (widget === null || widget.offsetParent === null) return null;
  const rows = [...widget.querySelectorAll(".monaco-list-row.action")];
  return rows.length > 0 ? rows.map((row) => row.innerText.replace(/\s+/g, " ").trim()) : null;
}

function focusedAction() {
  const row = document.querySelector(".action-widget .monaco-list-row.action.focused");
  return row === null ? null : row.innerText.replace(/\s+/g, " ").trim();
}

function editorShows(text) {
  const lines = document.querySelector(".editor-instance .monaco-editor .view-lines");
  // The editor renders spaces as no-break spaces.
  return lines !== null && lines.innerText.replace(/\u00a0/g, " ").includes(text);
}

// Functions with the page in scope, so that page functions can call one another.
async function install(page) {
  for (const fn of [problemRows, lessonlensError, listsCodes, listsNoCode]) {
    await page.evaluate(`window.${fn.name} = ${fn.toString()}`);
  }
}

async function goTo(page, line, column) {
  await chord(page, "Control+KeyG");
  await waitFor(page, "the Go to Line box", quickInputOpen, timeouts.step);
  await page.keyboard.type(`${line}:${column}`);
  await page.keyboard.press("Enter");
  await waitFor(
    page,
    `the cursor at Ln ${line}, Col ${column}`,
    (text) =>
      [...document.querySelectorAll(".statusbar-item")].some((item) =>
        item.textContent.includes(text),
      ),
    timeouts.step,
    `Ln ${line}, Col ${column}`,
  );
}

async function openFile(page) {
  const url = `${input.url}/?folder=${encodeURIComponent(input.folder)}`;
  log(`opening ${url}`);
  await page.goto(url, { waitUntil: "domcontentloaded", timeout: timeouts.load });
  // The workbench is up when the Explorer lists the folder's file.
  await waitFor(
    page,
    `the Explorer to list ${input.file}`,
    (name) =>
      [...document.querySelectorAll(".explorer-folders-view .monaco-list-row")].some(
        (row) => row.innerText.trim() === name,
      ),
    timeouts.load,
    input.file,
  );
  log("workbench loaded");
  // Quick Open, as a user would.
  await chord(page, "Control+KeyP");
  await waitFor(page, "Quick Open", quickInputOpen, timeouts.step);
  await page.keyboard.type(input.file);
  await waitFor(
    page,
    `Quick Open to offer ${input.file}`,
    (name) =>
      [...document.querySelectorAll(".quick-input-list .monaco-list-row")].some((row) =>
        row.innerText.includes(name),
      ),
    timeouts.step,
    input.file,
  );
  await page.keyboard.press("Enter");
  await waitFor(
    page,
    `an editor on ${input.file}`,
    (name) => {
      const tab = document.querySelector(".tabs-container .tab.active");
      return (
        tab !== null &&
        tab.innerText.includes(name) &&
        document.querySelector(".editor-instance .monaco-editor .view-lines") !== null
      );
    },
    timeouts.step,
    input.file,
  );
  log(`${input.file} open`);
}

async function readProblems(page) {
  await chord(page, "Control+Shift+KeyM");
  await waitFor(
    page,
    "the Problems panel",
    () => document.querySelector(".markers-panel") !== null,
    timeouts.step,
  );
  await install(page);
  let listed;
  try {
    listed = await waitFor(
      page,
      `the Problems panel to list ${input.codes.join(", ")}`,
      (codes) => window.listsCodes(codes),
      timeouts.problems,
      input.codes,
    );
  } finally {
    result.problems = await page.evaluate(() => window.problemRows());
  }
  if (listed.failed) throw new Error(`the extension reported an error: ${listed.failed}`);
  log(`Problems panel: ${result.problems.map((row) => row.code).join(", ")}`);
  await page.screenshot({ path: path.join(input.shots, "problems.png") });
}

// Hovers the hint with the mouse: the cursor goes inside its range, then the mouse onto the
// cursor, and off and on again while no hover shows (a hover needs the mouse to move).
async function readHover(page) {
  await goTo(page, input.hover.line, input.hover.column);
  const cursor = await page.$eval(
    ".editor-instance .monaco-editor .cursors-layer .cursor",
    (element) => {
      const box = element.getBoundingClientRect();
      return { x: box.left, y: box.top + box.height / 2 };
    },
  );
  const deadline = Date.now() + timeouts.step;
  for (let attempt = 1; result.hover === undefined; attempt++) {
    if (Date.now() >= deadline) throw new Error(`no lesson hover within ${timeouts.step} ms`);
    await page.mouse.move(cursor.x + 200, cursor.y + 300);
    await page.mouse.move(cursor.x + 4 + (attempt % 3), cursor.y, { steps: 5 });
    try {
      const wait = Math.max(1000, Math.min(4000, deadline - Date.now()));
      result.hover = await waitFor(page, "a hover", lessonHover, wait);
    } catch {
      log(`no lesson hover yet (attempt ${attempt})`);
    }
  }
  log(`hover: ${result.hover.headings.join(" | ")}`);
  await page.screenshot({ path: path.join(input.shots, "hover.png") });
  await page.mouse.move(5, 880);
  await page.keyboard.press("Escape");
}

// The quick fix: Ctrl+. in the hint, the action chosen by its title with the arrow keys, Enter;
// then Ctrl+S, and the file as saved.
async function applyFix(page) {
  const file = path.join(input.folder, input.file);
  const before = fs.readFileSync(file, "utf8");
  await goTo(page, input.fix.line, input.fix.column);
  await chord(page, "Control+Period");
  result.actions = await waitFor(page, "the quick fix menu", quickFixMenu, timeouts.step);
  log(`quick fix menu: ${result.actions.join(" | ")}`);
  await page.screenshot({ path: path.join(input.shots, "quickfix.png") });
  if (!result.actions.some((title) => title.includes(input.fix.title))) {
    throw new Error(`the quick fix menu has no ${JSON.stringify(input.fix.title)}`);
  }
  for (let step = 0; step < result.actions.length; step++) {
    const focused = await page.evaluate(focusedAction);
    if (focused !== null && focused.includes(input.fix.title)) break;
    await page.keyboard.press("ArrowDown");
    await sleep(100);
  }
  const chosen = await page.evaluate(focusedAction);
  if (chosen === null || !chosen.includes(input.fix.title)) {
    throw new Error(`could not select ${JSON.stringify(input.fix.title)}; selected: ${chosen}`);
  }
  log(`choosing ${chosen}`);
  await page.keyboard.press("Enter");
  await waitFor(page, "the editor to show the fix", editorShows, timeouts.step, input.fix.expect);
  await chord(page, "Control+KeyS");
  const deadline = Date.now() + timeouts.step;
  while (fs.readFileSync(file, "utf8") === before && Date.now() < deadline) await sleep(200);
  result.after = fs.readFileSync(file, "utf8");
  if (result.after === before) throw new Error(`${input.file} unchanged on disk after Ctrl+S`);
  log("fix applied and saved");
  // The server analyses the new text: the fixed hint leaves the Problems panel.
  try {
    await waitFor(
      page,
      `${input.fix.code} to leave the Problems panel`,
      (code) => window.listsNoCode(code),
      timeouts.step,
      input.fix.code,
    );
  } catch (error) {
    log(String(error.message));
  }
  result.problemsAfterFix = await page.evaluate(() => window.problemRows());
  log(`Problems panel after the fix: ${result.problemsAfterFix.map((row) => row.code).join(", ")}`);
}

async function main() {
  const browser = await puppeteer.launch({
    executablePath: input.chromium,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--window-size=1400,900",
      "--no-proxy-server",
      // Chromium's own services (autofill, sign-in, updates) would look up Google's hosts: it
      // resolves no name but code-server's address.
      `--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE ${new URL(input.url).hostname}`,
    ],
  });
  let page;
  try {
    page = await browser.newPage();
    page.on("pageerror", (error) => log(`page error: ${error.message}`));
    // Everything the page loads comes from code-server: note any request elsewhere.
    result.external = [];
    const local = new URL(input.url).host;
    page.on("request", (request) => {
      const url = request.url();
      if (/^(https?|wss?):/.test(url) && new URL(url).host !== local) result.external.push(url);
    });
    await page.setViewport({ width: 1400, height: 900 });
    await openFile(page);
    await readProblems(page);
    await readHover(page);
    await applyFix(page);
    await page.screenshot({ path: path.join(input.shots, "final.png") });
    log("done");
  } catch (error) {
    result.error = String(error.stack || error);
    log(`failed: ${error.message}`);
    if (page !== undefined) {
      await page.screenshot({ path: path.join(input.shots, "failure.png") }).catch(() => {});
      result.page = await page.evaluate(() => document.body.innerText).catch(() => undefined);
    }
  } finally {
    await browser.close().catch(() => {});
  }
}

main()
  .catch((error) => {
    result.error = String(error.stack || error);
  })
  .finally(() => {
    process.stdout.write(JSON.stringify(result) + "\n");
  });
