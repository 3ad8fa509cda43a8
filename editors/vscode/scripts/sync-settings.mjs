// Regenerates `contributes.configuration` in package.json from the Python settings definition
// (`lessonlens settings --vscode`), the single source of truth: a Python test asserts that the two
// are equal, so never edit that block by hand.
//
//   npm run sync-settings            rewrite package.json
//   npm run sync-settings -- --check exit 1 if package.json is out of date (for CI)
//
// The interpreter is $PYTHON, else the repository's .venv, else python3 (python on Windows).
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const extensionDir = join(dirname(fileURLToPath(import.meta.url)), "..");
const packagePath = join(extensionDir, "package.json");

function python() {
  if (process.env.PYTHON) {
    return process.env.PYTHON;
  }
  const windows = process.platform === "win32";
  const venv = join(
    extensionDir,
    "..",
    "..",
    ".venv",
    windows ? "Scripts" : "bin",
    windows ? "python.exe" : "python",
  );
  if (existsSync(venv)) {
    return venv;
  }
  return windows ? "python" : "python3";
}

const interpreter = python();
let printed;
try {
  printed = execFileSync(interpreter, ["-m", "lessonlens", "settings", "--vscode"], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
} catch (error) {
  console.error(
    `sync-settings: \`${interpreter} -m lessonlens settings --vscode\` failed: ${error.message}`,
  );
  process.exit(2);
}

const original = readFileSync(packagePath, "utf8");
const manifest = JSON.parse(original);
manifest.contributes.configuration = JSON.parse(printed);
// Two-space JSON plus a final newline is exactly what npm itself writes, so `npm install` and this
// script never fight over formatting.
const updated = JSON.stringify(manifest, null, 2) + "\n";

if (process.argv.includes("--check")) {
  if (updated !== original) {
    console.error("sync-settings: package.json is out of date; run `npm run sync-settings`.");
    process.exit(1);
  }
  console.log("sync-settings: package.json is up to date.");
} else if (updated !== original) {
  writeFileSync(packagePath, updated);
  console.log(`sync-settings: updated contributes.configuration (from ${interpreter}).`);
} else {
  console.log("sync-settings: already up to date.");
}
