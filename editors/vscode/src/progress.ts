/**
 * The developer's own progress, as the `lessonlens/progress` request returns it (the same profile
 * as `lessonlens progress --json`), rendered as Markdown for the lesson preview.
 */

/** The custom request; it takes no params (send `{}`: see `showProgress`). */
export const PROGRESS_REQUEST = "lessonlens/progress";

/** The title of the preview, and so the name its tab shows. */
export const PROGRESS_TITLE = "My lessonlens progress";

interface SkillRow {
  readonly name: string;
  readonly p_known: number;
  readonly trend_direction?: string;
  readonly status: string;
  readonly lessons_seen?: readonly unknown[];
  readonly opportunities?: number;
  readonly correct?: number;
  readonly incorrect?: number;
}

interface NextLesson {
  readonly id: string;
  readonly title: string;
  readonly url?: string;
  readonly skill_name?: string;
  readonly reason?: string;
}

const ARROWS: Record<string, string> = { up: "↑", down: "↓", flat: "→" };
const STATUSES: Record<string, string> = {
  learning: "learning",
  quiet: "quiet",
  mastered: "mastered",
  claimed: "known (you said)",
  off: "not a team priority",
};
const BAR_WIDTH = 10;

/**
 * Text that Markdown must show as typed: skill names and titles can come from a team's own
 * taxonomy and lessons, and a `|` would end a table cell, a `<` open HTML.
 */
function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_[\]<>|#]/g, (character) => `\\${character}`);
}

/** A URL as a link target: spaces and parentheses would end it early; the rest is kept as is. */
function linkTarget(url: string): string {
  const encoded: Record<string, string> = { " ": "%20", "(": "%28", ")": "%29" };
  return url.replace(/[ ()]/g, (character) => encoded[character] ?? character);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function count(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) ? value : 0;
}

function isSkillRow(value: unknown): value is SkillRow {
  return (
    isRecord(value) &&
    typeof value.name === "string" &&
    typeof value.p_known === "number" &&
    typeof value.status === "string"
  );
}

function isNextLesson(value: unknown): value is NextLesson {
  return isRecord(value) && typeof value.id === "string" && typeof value.title === "string";
}

function bar(pKnown: number): string {
  const clamped = Math.max(0, Math.min(1, pKnown));
  const filled = Math.round(clamped * BAR_WIDTH);
  const drawn = "█".repeat(filled) + "░".repeat(BAR_WIDTH - filled);
  return `\`${drawn}\` ${Math.round(clamped * 100)}%`;
}

function skillLine(row: SkillRow): string {
  const evidence = `${count(row.correct)} good, ${count(row.incorrect)} missed`;
  const cells = [
    escapeMarkdown(row.name),
    bar(row.p_known),
    ARROWS[row.trend_direction ?? "flat"] ?? ARROWS.flat,
    String(Array.isArray(row.lessons_seen) ? row.lessons_seen.length : 0),
    escapeMarkdown(STATUSES[row.status] ?? row.status),
    evidence,
  ];
  return `| ${cells.join(" | ")} |`;
}

/**
 * The profile as Markdown, or undefined when the result is not a profile at all. Malformed rows
 * are left out rather than rendered as "undefined".
 */
export function progressMarkdown(result: unknown): string | undefined {
  if (!isRecord(result) || !Array.isArray(result.skills)) {
    return undefined;
  }
  const rows = result.skills.filter(isSkillRow);
  const lines = [`# ${PROGRESS_TITLE}`, ""];
  if (rows.length === 0) {
    lines.push(
      "No progress recorded yet. lessonlens records it as you work: the hints you see, the " +
        "lessons you open, and the patterns you write well or fix yourself.",
    );
  } else {
    lines.push(
      "| Skill | Mastery | Trend | Lessons seen | Status | Evidence |",
      "|---|---|:-:|--:|---|---|",
      ...rows.map(skillLine),
    );
  }
  const next = result.next_lesson;
  if (isNextLesson(next)) {
    const title =
      typeof next.url === "string"
        ? `[${escapeMarkdown(next.title)}](${linkTarget(next.url)})`
        : escapeMarkdown(next.title);
    const skill =
      typeof next.skill_name === "string" ? ` (${escapeMarkdown(next.skill_name)})` : "";
    lines.push("", `**Next suggested lesson:** ${title}${skill}, id \`${next.id}\`.`);
    if (typeof next.reason === "string") {
      lines.push("", `Why this one: ${escapeMarkdown(next.reason)}.`);
    }
  }
  const sharing = result.sharing === true;
  lines.push(
    "",
    "---",
    "",
    sharing
      ? "Sharing is **on** (`lessonlens.shareProgress`)."
      : "Sharing is **off** (`lessonlens.shareProgress`): your progress stays on this machine.",
    "",
    "Estimates come from what lessonlens saw as you worked, never from your code itself. " +
      "`lessonlens progress --forget` in a terminal deletes them.",
    "",
  );
  return lines.join("\n");
}
