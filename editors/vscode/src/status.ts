import * as vscode from "vscode";
import type { Interpreter } from "./interpreter";

export type ServerState =
  | { readonly kind: "starting"; readonly interpreter?: Interpreter }
  | { readonly kind: "ready"; readonly interpreter: Interpreter; readonly server?: string }
  | { readonly kind: "stopped"; readonly interpreter?: Interpreter; readonly reason: string };

const LABEL = "$(mortar-board) lessonlens";

const SOURCES: Record<Interpreter["source"], string> = {
  setting: "from lessonlens.pythonPath",
  "python extension": "the Python extension's environment",
  default: "from PATH",
};

/** The status bar item: the server's state at a glance; a click shows the output channel. */
export class ServerStatus implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem(
    "lessonlens.status",
    vscode.StatusBarAlignment.Right,
    100,
  );

  private state: ServerState = { kind: "starting" };

  constructor(showOutputCommand: string) {
    this.item.name = "lessonlens";
    this.item.command = showOutputCommand;
    this.set({ kind: "starting" });
    this.item.show();
  }

  /** Shows the current state again, for a setting the tooltip mentions that has changed. */
  refresh(): void {
    this.set(this.state);
  }

  set(state: ServerState): void {
    this.state = state;
    const words = { starting: "starting", ready: "ready", stopped: "stopped" }[state.kind];
    this.item.text = {
      starting: `${LABEL} $(loading~spin)`,
      ready: LABEL,
      stopped: `${LABEL} $(circle-slash)`,
    }[state.kind];
    this.item.accessibilityInformation = { label: `lessonlens: ${words}` };
    this.item.backgroundColor =
      state.kind === "stopped"
        ? new vscode.ThemeColor("statusBarItem.warningBackground")
        : undefined;

    const tooltip = new vscode.MarkdownString(`**lessonlens: ${words}**\n\n`);
    // Paths and error text are shown as text, never interpreted as Markdown.
    if (state.kind === "stopped") {
      tooltip.appendText(state.reason);
      tooltip.appendMarkdown("\n\n");
    }
    if (state.kind === "ready" && state.server !== undefined) {
      tooltip.appendText(`Server: ${state.server}`);
      tooltip.appendMarkdown("\n\n");
    }
    if (state.interpreter !== undefined) {
      tooltip.appendText(
        `Python: ${state.interpreter.path} (${SOURCES[state.interpreter.source]})`,
      );
      tooltip.appendMarkdown("\n\n");
    }
    // The promise: sharing is off until the developer turns it on, and visible here.
    const sharing = vscode.workspace
      .getConfiguration("lessonlens")
      .get<boolean>("shareProgress", false);
    tooltip.appendMarkdown(
      sharing
        ? "Progress sharing: **on** (`lessonlens.shareProgress`)\n\n"
        : "Progress sharing: **off**, your progress stays on this machine " +
            "(`lessonlens.shareProgress`)\n\n",
    );
    tooltip.appendMarkdown("[My progress](command:lessonlens.showProgress) · ");
    tooltip.appendMarkdown("[Show output](command:lessonlens.showOutput) · ");
    tooltip.appendMarkdown("[Restart server](command:lessonlens.restartServer)");
    tooltip.isTrusted = {
      enabledCommands: [
        "lessonlens.showProgress",
        "lessonlens.showOutput",
        "lessonlens.restartServer",
      ],
    };
    this.item.tooltip = tooltip;
  }

  dispose(): void {
    this.item.dispose();
  }
}
