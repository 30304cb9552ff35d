/**
 * Schedule files (YAML or JSON): parsing, checking every item, and reporting every
 * problem with its file, line and field. A file is accepted whole or refused whole.
 *
 * ```yaml
 * schedules:
 *   - id: cleanup-temp
 *     task: maintenance.cleanup
 *     schedule: "every:5m"
 *     jitter: 10s
 *   - id: nightly-report
 *     task: reports.generate
 *     schedule: {kind: cron, expression: "0 2 * * *"}
 *     timezone: Europe/London
 * ```
 */
import { extname } from "node:path";
import {
  type Document,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  type Node as YamlNode,
} from "yaml";
import { StemError } from "../core/errors.ts";
import type { ScheduleEntry } from "../core/schedule.ts";
import { collectEntry, entryLabel, itemId } from "./entry-definition.ts";
import { type FieldPath, fieldName, IssueList } from "./field-issues.ts";
import { jsonErrorOffset } from "./json-syntax.ts";

/** One problem in a schedule file. */
export interface ScheduleFileIssue {
  file: string;
  /** 1-based; absent when the problem has no place (an unreadable file). */
  line?: number;
  /** The schedule's id, or `#n` for an item without one. */
  schedule?: string;
  /** The field, as `timezone` or `schedule.every`. */
  field?: string;
  message: string;
}

/** `schedules.yaml:12: schedule "nightly": field "timezone": "Mars/Base" is not an IANA time zone`. */
export function formatFileIssue(issue: ScheduleFileIssue): string {
  let text = issue.line === undefined ? `${issue.file}: ` : `${issue.file}:${issue.line}: `;
  if (issue.schedule !== undefined) text += `schedule "${issue.schedule}": `;
  if (issue.field) text += `field "${issue.field}": `;
  return text + issue.message;
}

/** Thrown when schedule files are refused: lists every problem found, in file order. */
export class ScheduleFileError extends StemError {
  constructor(readonly issues: readonly ScheduleFileIssue[]) {
    const count = issues.length === 1 ? "1 problem" : `${issues.length} problems`;
    super(
      "invalid_argument",
      `schedule file refused (${count}; nothing applied):\n${issues.map((i) => `  ${formatFileIssue(i)}`).join("\n")}`,
    );
    this.name = "ScheduleFileError";
  }
}

/** A checked entry and where it was defined. */
export interface LocatedEntry {
  entry: ScheduleEntry;
  file: string;
  line?: number;
}

/** The result of reading one file: its entries, or the problems that refuse it. */
export interface ScheduleFileResult {
  entries: LocatedEntry[];
  issues: ScheduleFileIssue[];
}

/** Where the parsed text came from, to find the line of a path. */
interface Source {
  value: unknown;
  lineOf(path: FieldPath): number | undefined;
}

/**
 * Parses and checks a schedule file's text without throwing: every problem is returned.
 * `fileName` picks the format (`.json` → JSON, `.yaml`/`.yml` → YAML; any other name is
 * tried as JSON, then as YAML) and names the file in messages.
 */
export function checkScheduleFile(text: string, fileName: string): ScheduleFileResult {
  const issues: ScheduleFileIssue[] = [];
  const source = readSource(text, fileName, issues);
  if (!source) return { entries: [], issues };
  const fileIssue = (path: FieldPath, message: string) =>
    issues.push({ file: fileName, line: source.lineOf(path), message });

  let items: unknown[];
  let base: FieldPath;
  const top = source.value;
  if (Array.isArray(top)) {
    items = top;
    base = [];
  } else if (typeof top === "object" && top !== null) {
    const map = top as Record<string, unknown>;
    for (const key of Object.keys(map)) {
      if (key !== "schedules")
        fileIssue([key], `unknown top-level key "${key}" (expected "schedules")`);
    }
    if (!Array.isArray(map.schedules)) {
      fileIssue(["schedules"], `expected "schedules" to be a list of schedules`);
      return { entries: [], issues };
    }
    items = map.schedules;
    base = ["schedules"];
  } else {
    fileIssue([], `expected a list of schedules, or a map with a "schedules" list`);
    return { entries: [], issues };
  }

  const entries: LocatedEntry[] = [];
  const seen = new Map<string, number | undefined>();
  items.forEach((item, index) => {
    const itemPath = [...base, index];
    const label = entryLabel(item, index);
    const itemIssues = new IssueList();
    const entry = collectEntry(item, itemIssues);
    for (const issue of itemIssues.issues) {
      issues.push({
        file: fileName,
        line: source.lineOf([...itemPath, ...issue.path]),
        schedule: label,
        field: fieldName(issue.path) || undefined,
        message: issue.message,
      });
    }
    const line = source.lineOf(itemPath);
    const id = itemId(item);
    const idKey = (item as { id?: unknown } | null)?.id === undefined ? "name" : "id";
    if (id !== undefined) {
      if (seen.has(id)) {
        const first = seen.get(id);
        issues.push({
          file: fileName,
          line: source.lineOf([...itemPath, idKey]),
          schedule: id,
          field: "id",
          message: `duplicate id (first defined ${first === undefined ? "earlier" : `at line ${first}`})`,
        });
      } else {
        seen.set(id, source.lineOf([...itemPath, idKey]));
      }
    }
    if (entry) entries.push({ entry, file: fileName, line });
  });
  return { entries: issues.length === 0 ? entries : [], issues };
}

/**
 * Parses a schedule file (YAML or JSON): a top-level list of schedules, or a map with a
 * `schedules:` list. Each item has `id`, `task`, `schedule` (a legacy string such as
 * `every:5m` or a cron expression, or a map with `kind` and the spec's fields), and
 * optionally `queue`, `enabled` (default true), `args`, `kwargs`, `meta` (maps),
 * `jitter` (a duration, no longer than an interval's `every`), `timezone` (IANA),
 * `expireAt` (ISO 8601 or epoch ms) and `runOnce`. Unknown keys and duplicate ids are
 * errors. Every item is checked: the result is all entries (version 0, no runs), or a
 * ScheduleFileError listing every problem with file, line and field.
 */
export function parseScheduleFile(text: string, fileName: string): ScheduleEntry[] {
  const result = checkScheduleFile(text, fileName);
  if (result.issues.length > 0) throw new ScheduleFileError(result.issues);
  return result.entries.map((e) => e.entry);
}

function formatOf(fileName: string): "json" | "yaml" | "unknown" {
  const ext = extname(fileName).toLowerCase();
  if (ext === ".json") return "json";
  if (ext === ".yaml" || ext === ".yml") return "yaml";
  return "unknown";
}

function readSource(source: string, fileName: string, issues: ScheduleFileIssue[]): Source | null {
  const format = formatOf(fileName);
  const text = source.charCodeAt(0) === 0xfeff ? source.slice(1) : source;
  let jsonError: Error | undefined;
  let jsonValue: unknown;
  if (format !== "yaml") {
    try {
      jsonValue = JSON.parse(text);
    } catch (error) {
      jsonError = error as Error;
    }
  }
  // YAML reads JSON too, and keeps source positions for line numbers.
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const lineAt = (offset: number | undefined) =>
    offset === undefined ? undefined : lineCounter.linePos(offset).line;

  if (format === "json" && jsonError) {
    // Strict JSON is required of .json files.
    issues.push({
      file: fileName,
      line: lineAt(jsonErrorOffset(text) ?? doc.errors[0]?.pos[0]),
      message: `not valid JSON (${jsonError.message})`,
    });
    return null;
  }
  if (doc.errors.length > 0) {
    if (jsonError === undefined && format !== "yaml") {
      // Valid JSON the YAML reader cannot take: use it, without line numbers.
      return { value: jsonValue, lineOf: () => undefined };
    }
    for (const error of doc.errors) {
      issues.push({
        file: fileName,
        line: lineAt(error.pos[0]),
        message: `not valid ${format === "json" ? "JSON" : "YAML"}: ${error.message}`,
      });
    }
    return null;
  }
  return {
    value: doc.toJS({ maxAliasCount: 1000 }),
    lineOf: (path) => lineAt(offsetOf(doc, path)),
  };
}

/** The source offset of the deepest node on `path`; a map entry is found at its key. */
function offsetOf(doc: Document, path: FieldPath): number | undefined {
  let node: unknown = doc.contents;
  let offset = (node as YamlNode | null)?.range?.[0];
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find(
        (p) => String(isScalar(p.key) ? p.key.value : p.key) === String(segment),
      );
      if (!pair) break;
      offset =
        (pair.key as YamlNode | null)?.range?.[0] ?? (pair.value as YamlNode | null)?.range?.[0];
      node = pair.value;
    } else if (isSeq(node) && typeof segment === "number") {
      const item = node.items[segment] as YamlNode | undefined;
      if (!item) break;
      offset = item.range?.[0] ?? offset;
      node = item;
    } else {
      break;
    }
  }
  return offset;
}
