import * as vscode from "vscode";
import {
  CloseAction,
  ErrorAction,
  type ErrorHandler,
  type Executable,
  LanguageClient,
  type LanguageClientOptions,
  ResponseError,
  RevealOutputChannelOn,
  State,
} from "vscode-languageclient/node";
import {
  findInterpreter,
  type Interpreter,
  onActiveEnvironmentChange,
  serverEnvironment,
  whyCannotRun,
} from "./interpreter";
import {
  LESSON_SCHEME,
  LessonDocuments,
  lessonsIn,
  pickLesson,
  showLessonArguments,
} from "./lessons";
import { PROGRESS_REQUEST, PROGRESS_TITLE, progressMarkdown } from "./progress";
import { ServerStatus } from "./status";

/** The languageIds the server analyses; `activationEvents` in package.json lists the same. */
export const LANGUAGES = [
  "python",
  "javascript",
  "javascriptreact",
  "typescript",
  "typescriptreact",
  "go",
];

const SHOW_LESSON = "lessonlens.showLesson";
const RESTART_SERVER = "lessonlens.restartServer";
const SHOW_OUTPUT = "lessonlens.showOutput";
const SHOW_PROGRESS = "lessonlens.showProgress";
/** JSON-RPC's "method not found": a server from before `lessonlens/progress` existed. */
const METHOD_NOT_FOUND = -32601;
/** Context key for `when` clauses: true while the server answers requests. */
const SERVER_READY = "lessonlens.serverReady";
/** More crashes than this within CRASH_WINDOW_MS and the server is left stopped. */
const MAX_CRASHES = 4;
const CRASH_WINDOW_MS = 3 * 60_000;

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The language server's lifetime: which interpreter runs it, its client, and its status.
 *
 * A new `LanguageClient` is made for every start because the interpreter is fixed when a client is
 * constructed, and a restart is how a new interpreter takes effect.
 */
class Server implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private interpreter: Interpreter | undefined;
  /** Start and stop run one after another, so that a restart clicked during a slow start cannot
   * leave two servers running. */
  private queue: Promise<void> = Promise.resolve();
  private disposed = false;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly output: vscode.OutputChannel,
    private readonly status: ServerStatus,
    private readonly lessons: LessonDocuments,
  ) {}

  /** Where the current interpreter came from, if a start has chosen one. */
  get interpreterSource(): Interpreter["source"] | undefined {
    return this.interpreter?.source;
  }

  restart(): Promise<void> {
    return this.enqueue(async () => {
      await this.stopClient();
      await this.startClient();
    });
  }

  dispose(): Promise<void> {
    this.disposed = true;
    return this.enqueue(() => this.stopClient());
  }

  log(line: string, level: "Info" | "Error" = "Info"): void {
    // The same shape as vscode-languageclient's own lines in this channel.
    this.output.appendLine(`[${level.padEnd(5)} - ${new Date().toLocaleTimeString()}] ${line}`);
  }

  private enqueue(step: () => Promise<void>): Promise<void> {
    this.queue = this.queue.then(step).catch((error: unknown) => {
      this.log(`Unexpected error: ${errorText(error)}`, "Error");
    });
    return this.queue;
  }

  // A method, not the field: TypeScript would keep the narrowing of `this.disposed` across awaits.
  private isDisposed(): boolean {
    return this.disposed;
  }

  private setReady(ready: boolean): void {
    void vscode.commands.executeCommand("setContext", SERVER_READY, ready);
  }

  private async startClient(): Promise<void> {
    if (this.disposed) {
      return;
    }
    this.status.set({ kind: "starting" });
    const interpreter = await findInterpreter((line) => {
      this.log(line);
    });
    this.interpreter = interpreter;
    this.status.set({ kind: "starting", interpreter });
    const cwd = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    this.log(
      `Starting ${interpreter.path} -m lessonlens serve (interpreter: ${interpreter.source})`,
    );

    const problem = await whyCannotRun(interpreter, cwd);
    if (problem !== undefined) {
      this.log(`The server cannot start: ${problem}`, "Error");
      this.status.set({ kind: "stopped", interpreter, reason: `Cannot start: ${problem}` });
      void this.offerHelp(problem, interpreter);
      return;
    }
    if (this.isDisposed()) {
      return; // Deactivated while the interpreter was being checked.
    }

    const executable: Executable = {
      command: interpreter.path,
      args: ["-m", "lessonlens", "serve"],
      // No `transport`: vscode-languageclient would append `--stdio`, and `serve` uses stdio
      // unless told otherwise.
      options: { cwd, env: serverEnvironment() },
    };
    let reachedRunning = false;
    const crashes: number[] = [];
    const errorHandler: ErrorHandler = {
      // vscode-languageclient's default policy: a few write errors are survivable.
      error: (_error, _message, count) => ({
        action: count !== undefined && count <= 3 ? ErrorAction.Continue : ErrorAction.Shutdown,
      }),
      closed: () => {
        if (!reachedRunning) {
          // A server that dies before answering `initialize` would die again: restarting it
          // only repeats the error. `start()` reports that failure once.
          return { action: CloseAction.DoNotRestart, handled: true };
        }
        const now = Date.now();
        crashes.push(now);
        while (crashes.length > 0 && crashes[0] < now - CRASH_WINDOW_MS) {
          crashes.shift();
        }
        if (crashes.length > MAX_CRASHES) {
          return {
            action: CloseAction.DoNotRestart,
            message:
              `The lessonlens server stopped ${crashes.length} times in a few minutes and will ` +
              'not be restarted. See the output, then run "lessonlens: Restart server".',
          };
        }
        return { action: CloseAction.Restart };
      },
    };
    const clientOptions: LanguageClientOptions = {
      // Every language the server reads (its analyzers' registry): Python, JavaScript and
      // TypeScript (JSX and TSX too), and Go.
      documentSelector: LANGUAGES.flatMap((language) => [
        { scheme: "file", language },
        { scheme: "untitled", language },
      ]),
      synchronize: { configurationSection: "lessonlens" },
      initializationOptions: this.initializationOptions(),
      outputChannel: this.output,
      // The server logs rule failures at error level; they belong in the log, not in pop-ups.
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      errorHandler,
      middleware: {
        executeCommand: async (command, args, next) => {
          if (command !== SHOW_LESSON) {
            return (await next(command, args)) as unknown;
          }
          await this.showLesson(args, (lessonArgs) => next(command, lessonArgs));
          return undefined;
        },
      },
    };
    const client = new LanguageClient(
      "lessonlens",
      "lessonlens",
      { run: executable, debug: executable },
      clientOptions,
    );
    this.client = client;
    client.onDidChangeState(({ newState }) => {
      if (this.client !== client) {
        return; // A client being replaced reports its own stop; the status is the new one's.
      }
      if (newState === State.Running) {
        reachedRunning = true;
        const info = client.initializeResult?.serverInfo;
        const server = info === undefined ? undefined : `${info.name} ${info.version ?? ""}`.trim();
        this.status.set({ kind: "ready", interpreter, server });
        this.setReady(true);
      } else if (newState === State.Starting) {
        // Also after a crash: if the restarted server dies before `initialize`, it stays down.
        reachedRunning = false;
        this.status.set({ kind: "starting", interpreter });
        this.setReady(false);
      } else {
        const reason = reachedRunning
          ? "The server stopped. See the output for why."
          : "The server did not start. See the output for why.";
        this.status.set({ kind: "stopped", interpreter, reason });
        this.setReady(false);
      }
    });
    try {
      await client.start();
    } catch (error) {
      // vscode-languageclient has already shown a notification and logged the details.
      if (this.client === client) {
        this.status.set({
          kind: "stopped",
          interpreter,
          reason: `The server did not start: ${errorText(error)}`,
        });
        this.setReady(false);
      }
    }
  }

  private async stopClient(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.setReady(false);
    if (client === undefined) {
      return;
    }
    try {
      if (client.state === State.Starting) {
        // Restarting itself after a crash. `stop` refuses a starting client, and left alone it
        // would come up beside its replacement, so wait for the start to settle first.
        await client.start().catch(() => undefined);
      }
      // A client that never reached running has nothing to shut down.
      if (client.isRunning()) {
        await client.dispose();
      }
    } catch (error) {
      this.log(`Stopping the server failed: ${errorText(error)}`, "Error");
    }
    this.status.set({
      kind: "stopped",
      interpreter: this.interpreter,
      reason: "The server was stopped.",
    });
  }

  /** The flat settings object the server reads before `workspace/configuration` is available. */
  private initializationOptions(): Record<string, unknown> {
    const manifest = this.context.extension.packageJSON as {
      contributes: { configuration: { properties: Record<string, unknown> } };
    };
    const folder = vscode.workspace.workspaceFolders?.[0];
    const config = vscode.workspace.getConfiguration("lessonlens", folder);
    const options: Record<string, unknown> = {};
    for (const key of Object.keys(manifest.contributes.configuration.properties)) {
      const name = key.slice("lessonlens.".length);
      if (name !== "pythonPath") {
        options[name] = config.get(name);
      }
    }
    return options;
  }

  private async showLesson(
    args: unknown[],
    send: (lessonArgs: unknown[]) => unknown,
  ): Promise<void> {
    const lessonArgs = await showLessonArguments(args);
    if (lessonArgs === undefined) {
      return;
    }
    let result: unknown;
    try {
      result = await send(lessonArgs);
    } catch (error) {
      void vscode.window.showErrorMessage(
        `lessonlens: could not show the lesson: ${errorText(error)}`,
      );
      return;
    }
    const found = lessonsIn(result);
    if (found.length === 0) {
      void vscode.window.showWarningMessage("lessonlens: the server sent no lesson to show.");
      return;
    }
    const lesson = await pickLesson(found);
    if (lesson !== undefined) {
      await this.lessons.show(lesson);
    }
  }

  /** Asks the server for the developer's profile and renders it beside the code. */
  async showProgress(): Promise<void> {
    const client = this.client;
    if (client?.isRunning() !== true) {
      void vscode.window.showWarningMessage(
        "lessonlens: the server is not running, so it cannot report your progress.",
      );
      return;
    }
    let result: unknown;
    try {
      // The request takes no params, but it is sent an empty object rather than none: pygls
      // 2.1 cannot read a request without a `params` member and answers "Internal Error".
      result = await client.sendRequest<unknown>(PROGRESS_REQUEST, {});
    } catch (error) {
      const message =
        error instanceof ResponseError && error.code === METHOD_NOT_FOUND
          ? "this lessonlens server does not report progress; update the lessonlens package."
          : `could not get your progress: ${errorText(error)}`;
      void vscode.window.showErrorMessage(`lessonlens: ${message}`);
      return;
    }
    const markdown = progressMarkdown(result);
    if (markdown === undefined) {
      this.log(`Unexpected ${PROGRESS_REQUEST} result: ${JSON.stringify(result)}`, "Error");
      void vscode.window.showWarningMessage("lessonlens: the server sent no progress to show.");
      return;
    }
    await this.lessons.show({ id: "progress", title: PROGRESS_TITLE, markdown });
  }

  private async offerHelp(problem: string, interpreter: Interpreter): Promise<void> {
    // Point at whatever chose the interpreter: the Python extension's picker or the setting.
    const choose =
      interpreter.source === "python extension"
        ? "Select Python interpreter"
        : "Set lessonlens.pythonPath";
    const output = "Show output";
    const choice = await vscode.window.showErrorMessage(
      `lessonlens could not start: ${problem}`,
      choose,
      output,
    );
    if (choice === output) {
      this.output.show(true);
    } else if (choice === undefined) {
      return;
    } else if (interpreter.source === "python extension") {
      await vscode.commands.executeCommand("python.setInterpreter");
    } else {
      await vscode.commands.executeCommand(
        "workbench.action.openSettings",
        "lessonlens.pythonPath",
      );
    }
  }
}

let server: Server | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel("lessonlens");
  const status = new ServerStatus(SHOW_OUTPUT);
  const lessons = new LessonDocuments();
  const current = new Server(context, output, status, lessons);
  server = current;
  context.subscriptions.push(
    output,
    status,
    lessons,
    vscode.workspace.registerTextDocumentContentProvider(LESSON_SCHEME, lessons),
    // `lessonlens.showLesson` is not registered here: the server advertises it, so
    // vscode-languageclient registers it while the server runs and routes it through the
    // `executeCommand` middleware above. Registering it here too would fail with "command
    // already exists" when the client starts.
    vscode.commands.registerCommand(RESTART_SERVER, () => current.restart()),
    vscode.commands.registerCommand(SHOW_OUTPUT, () => {
      output.show(true);
    }),
    // Not advertised by the server: it is a custom request, not a workspace/executeCommand.
    vscode.commands.registerCommand(SHOW_PROGRESS, () => current.showProgress()),
    vscode.workspace.onDidChangeConfiguration((event) => {
      // Other settings reach the running server through workspace/didChangeConfiguration.
      if (event.affectsConfiguration("lessonlens.pythonPath")) {
        void current.restart();
      }
      if (event.affectsConfiguration("lessonlens.shareProgress")) {
        status.refresh();
      }
    }),
  );
  const environmentChange = await onActiveEnvironmentChange(() => {
    if (current.interpreterSource !== "setting") {
      current.log("The Python extension's environment changed; restarting.");
      void current.restart();
    }
  });
  if (environmentChange !== undefined) {
    context.subscriptions.push(environmentChange);
  }
  // Awaited so that a command that activated the extension finds the server's commands in place.
  await current.restart();
}

export function deactivate(): Promise<void> | undefined {
  return server?.dispose();
}
