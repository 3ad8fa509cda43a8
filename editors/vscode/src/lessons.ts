import * as vscode from "vscode";

/** The URI scheme of the read-only lesson documents that the Markdown preview renders. */
export const LESSON_SCHEME = "lessonlens-lesson";

/** One lesson as `workspace/executeCommand` `lessonlens.showLesson` returns it. */
export interface Lesson {
  readonly id?: string;
  readonly title: string;
  readonly markdown: string;
}

/**
 * Lesson Markdown, served to the editor as virtual documents.
 *
 * The Markdown preview renders a document, not a string, so each lesson becomes a document under
 * `lessonlens-lesson:`. Contents are kept for the whole session (a few kilobytes per lesson) rather
 * than dropped when the document closes: an open preview can read its document again later.
 */
export class LessonDocuments implements vscode.TextDocumentContentProvider {
  private readonly contents = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.contents.get(uri.toString()) ?? "";
  }

  /** Opens the lesson rendered beside the code, so the code that prompted it stays in view. */
  async show(lesson: Lesson): Promise<void> {
    // The file name is what the preview's tab shows, so it is the title (slashes would make
    // folders of it); the folder is the id, so that two lessons with one title stay apart.
    const name = lesson.title.replace(/[\\/]/g, "-").trim() || "lesson";
    const folder = lesson.id === undefined ? "" : `/${lesson.id.replace(/[\\/]/g, "-")}`;
    const uri = vscode.Uri.from({ scheme: LESSON_SCHEME, path: `${folder}/${name}.md` });
    const key = uri.toString();
    const previous = this.contents.get(key);
    this.contents.set(key, lesson.markdown);
    if (previous !== undefined && previous !== lesson.markdown) {
      // Team lessons can change while the session runs; an open preview must not show stale text.
      this.changed.fire(uri);
    }
    await vscode.commands.executeCommand("markdown.showPreviewToSide", uri);
  }

  dispose(): void {
    this.changed.dispose();
  }
}

function isLesson(value: unknown): value is Lesson {
  if (typeof value !== "object" || value === null) {
    return false;
  }
  const candidate = value as Record<string, unknown>;
  return (
    typeof candidate.title === "string" &&
    typeof candidate.markdown === "string" &&
    (candidate.id === undefined || typeof candidate.id === "string")
  );
}

/**
 * The lessons in a `lessonlens.showLesson` result: one object for a single id, a list for a list
 * of ids (code lenses send a list). Anything malformed is dropped rather than rendered as
 * "undefined".
 */
export function lessonsIn(result: unknown): Lesson[] {
  const items: unknown[] = Array.isArray(result) ? result : [result];
  return items.filter(isLesson);
}

interface LessonItem extends vscode.QuickPickItem {
  readonly lessonId?: string;
}

/**
 * The lessons behind lessonlens hints in the active editor, in the order of the hints.
 *
 * The lesson id travels in each diagnostic's `data`; vscode-languageclient keeps `data` on the
 * diagnostics it creates although `vscode.Diagnostic` does not declare it, hence the runtime
 * check. The title is the end of the message (" Lesson: <title>").
 */
function lessonsInActiveEditor(): LessonItem[] {
  const editor = vscode.window.activeTextEditor;
  if (editor === undefined) {
    return [];
  }
  const items = new Map<string, LessonItem>();
  for (const diagnostic of vscode.languages.getDiagnostics(editor.document.uri)) {
    const lessonId: unknown = (diagnostic as { data?: unknown }).data;
    if (diagnostic.source !== "lessonlens" || typeof lessonId !== "string" || items.has(lessonId)) {
      continue;
    }
    const title = / Lesson: (.+)$/.exec(diagnostic.message)?.[1] ?? lessonId;
    items.set(lessonId, {
      label: title,
      description: lessonId,
      detail: `Line ${diagnostic.range.start.line + 1}: ${diagnostic.message}`,
      lessonId,
    });
  }
  return [...items.values()];
}

async function askLessonId(): Promise<string | undefined> {
  const lessonId = await vscode.window.showInputBox({
    title: "lessonlens: Show lesson",
    prompt: "Lesson id (`lessonlens lessons list` lists them)",
    placeHolder: "set-membership",
    ignoreFocusOut: true,
    validateInput: (value) => (value.trim() ? undefined : "Enter a lesson id."),
  });
  return lessonId?.trim();
}

/**
 * The arguments `lessonlens.showLesson` is sent with, or undefined when the person cancels.
 *
 * Code actions send `[lessonId]`, code lenses `[[lessonId, ...]]`; from the command palette there
 * are none, so the person picks one of the lessons behind the active file's hints or types an id.
 */
export async function showLessonArguments(args: unknown[]): Promise<unknown[] | undefined> {
  if (args.length > 0) {
    return args;
  }
  const here = lessonsInActiveEditor();
  let lessonId: string | undefined;
  if (here.length === 0) {
    lessonId = await askLessonId();
  } else {
    const other: LessonItem = { label: "$(edit) Enter a lesson id..." };
    const picked = await vscode.window.showQuickPick([...here, other], {
      title: "lessonlens: Show lesson",
      placeHolder: "A lesson behind a hint in this file, or any lesson by id",
      matchOnDescription: true,
    });
    lessonId = picked === other ? await askLessonId() : picked?.lessonId;
  }
  return lessonId ? [lessonId] : undefined;
}

/** Picks one of several lessons (a code lens over a function can name many). */
export async function pickLesson(lessons: readonly Lesson[]): Promise<Lesson | undefined> {
  if (lessons.length <= 1) {
    return lessons[0];
  }
  const picked = await vscode.window.showQuickPick(
    lessons.map((lesson) => ({ label: lesson.title, lesson })),
    { title: "lessonlens: lessons here", placeHolder: "Which lesson?" },
  );
  return picked?.lesson;
}
