import { execFile } from "node:child_process";
import * as os from "node:os";
import * as path from "node:path";
import * as vscode from "vscode";

/** The Python that runs `-m lessonlens serve`, and where that choice came from. */
export interface Interpreter {
  readonly path: string;
  readonly source: "setting" | "python extension" | "default";
}

/** The part of the Python extension's API (`ms-python.python` exports) used here. */
interface PythonExtensionApi {
  readonly environments: {
    getActiveEnvironmentPath(resource?: vscode.Uri | vscode.WorkspaceFolder): {
      readonly id: string;
      readonly path: string;
    };
    resolveEnvironment(
      environment: { readonly id: string; readonly path: string } | string,
    ): Promise<{ readonly executable: { readonly uri: vscode.Uri | undefined } } | undefined>;
    readonly onDidChangeActiveEnvironmentPath: vscode.Event<unknown>;
  };
}

const PYTHON_EXTENSION = "ms-python.python";

function defaultPython(): string {
  return process.platform === "win32" ? "python" : "python3";
}

/** `~` and `${workspaceFolder}` are what people write in settings.json; VS Code expands neither. */
function expand(setting: string, folder: vscode.WorkspaceFolder | undefined): string {
  let value = setting.trim();
  if (folder !== undefined) {
    value = value.replace(/\$\{workspaceFolder\}/g, folder.uri.fsPath);
  }
  if (value === "~" || value.startsWith("~/") || value.startsWith("~\\")) {
    value = path.join(os.homedir(), value.slice(1));
  }
  return value;
}

async function pythonExtensionApi(): Promise<PythonExtensionApi | undefined> {
  const extension = vscode.extensions.getExtension<PythonExtensionApi | undefined>(
    PYTHON_EXTENSION,
  );
  if (extension === undefined) {
    return undefined;
  }
  const api = extension.isActive ? extension.exports : await extension.activate();
  // Releases before the environments API (2023) export something else; treat them as absent.
  // The declared type is what this extension expects, not a guarantee, hence the checks.
  const environments = (api as Partial<PythonExtensionApi> | undefined)?.environments;
  return typeof environments?.getActiveEnvironmentPath === "function" ? api : undefined;
}

/**
 * The interpreter to run: the `lessonlens.pythonPath` setting, else the Python extension's active
 * environment for the first workspace folder, else `python3` (`python` on Windows) from PATH.
 */
export async function findInterpreter(log: (line: string) => void): Promise<Interpreter> {
  const folder = vscode.workspace.workspaceFolders?.[0];
  const setting = vscode.workspace
    .getConfiguration("lessonlens", folder)
    .get<string>("pythonPath", "");
  if (setting.trim()) {
    return { path: expand(setting, folder), source: "setting" };
  }
  try {
    const api = await pythonExtensionApi();
    if (api !== undefined) {
      const active = api.environments.getActiveEnvironmentPath(folder);
      // `path` may name an environment folder (conda) rather than an executable; resolving the
      // environment gives the executable.
      const resolved = await api.environments.resolveEnvironment(active);
      const executable = resolved?.executable.uri?.fsPath;
      if (executable) {
        return { path: executable, source: "python extension" };
      }
      log(`The Python extension's environment ${active.path} has no interpreter; using PATH.`);
    }
  } catch (error) {
    log(`Could not ask the Python extension for its interpreter: ${String(error)}`);
  }
  return { path: defaultPython(), source: "default" };
}

/** Calls `listener` when the Python extension's active environment changes, if it is installed. */
export async function onActiveEnvironmentChange(
  listener: () => void,
): Promise<vscode.Disposable | undefined> {
  try {
    const api = await pythonExtensionApi();
    return api?.environments.onDidChangeActiveEnvironmentPath(listener);
  } catch {
    return undefined;
  }
}

/**
 * Environment for every Python process started here.
 *
 * `python -m` puts the working directory (the workspace) first on `sys.path`, so a project file
 * named `json.py` or `logging.py` would shadow the standard library inside the server.
 * PYTHONSAFEPATH (3.11+, which lessonlens requires) turns that off; older Pythons ignore it.
 */
export function serverEnvironment(): NodeJS.ProcessEnv {
  return { ...process.env, PYTHONSAFEPATH: "1" };
}

// Exit codes of CHECK_SCRIPT.
const TOO_OLD = 3;
const NOT_INSTALLED = 4;
const CHECK_SCRIPT = [
  "import importlib.util, sys",
  `if sys.version_info < (3, 11): sys.exit(${TOO_OLD})`,
  `if importlib.util.find_spec("lessonlens") is None: sys.exit(${NOT_INSTALLED})`,
].join("\n");

/**
 * Why `interpreter` cannot run the server, or undefined when it can.
 *
 * Checked before starting the client because a server that dies during `initialize` only gets a
 * generic "couldn't create connection to server" from vscode-languageclient, while the usual
 * cause, lessonlens not installed in that environment, deserves a message that says so.
 */
export function whyCannotRun(
  interpreter: Interpreter,
  cwd: string | undefined,
): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(
      interpreter.path,
      ["-c", CHECK_SCRIPT],
      { cwd, env: serverEnvironment(), timeout: 20_000, windowsHide: true },
      (error, _stdout, stderr) => {
        if (error === null) {
          resolve(undefined);
          return;
        }
        // A string code ("ENOENT") when the process never started; the exit status otherwise,
        // although the typings only admit the number.
        const code: unknown = error.code;
        if (code === "ENOENT") {
          resolve(`Python was not found at ${interpreter.path}.`);
        } else if (code === TOO_OLD) {
          resolve(`${interpreter.path} is older than Python 3.11, which lessonlens needs.`);
        } else if (code === NOT_INSTALLED) {
          resolve(
            `the lessonlens package is not installed for ${interpreter.path} (from a clone of its repository: python3 -m pip install .).`,
          );
        } else {
          const detail = stderr.trim().split("\n").pop() ?? error.message;
          resolve(`${interpreter.path} could not be run: ${detail || error.message}`);
        }
      },
    );
  });
}
