/**
 * Reading schedule files and directories of them, all or nothing.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { extname, join } from "node:path";
import type { ScheduleEntry } from "../core/schedule.ts";
import {
  checkScheduleFile,
  type LocatedEntry,
  ScheduleFileError,
  type ScheduleFileIssue,
} from "./schedule-file.ts";

/** The extensions a directory is searched for. */
export const SCHEDULE_FILE_EXTENSIONS = [".yaml", ".yml", ".json"] as const;

async function expand(path: string, issues: ScheduleFileIssue[]): Promise<string[]> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    issues.push({
      file: path,
      message:
        code === "ENOENT"
          ? "no such file or directory"
          : `cannot read (${(error as Error).message})`,
    });
    return [];
  }
  if (!info.isDirectory()) return [path];
  const names = (await readdir(path))
    .filter((n) =>
      (SCHEDULE_FILE_EXTENSIONS as readonly string[]).includes(extname(n).toLowerCase()),
    )
    .sort();
  if (names.length === 0) {
    issues.push({
      file: path,
      message: "directory holds no schedule files (*.yaml, *.yml, *.json)",
    });
  }
  return names.map((n) => join(path, n));
}

/**
 * Reads schedule files: each path is a file (any extension; see parseScheduleFile) or a
 * directory, whose `*.yaml`, `*.yml` and `*.json` files are read in name order. Every
 * file is checked and ids must be unique across all of them. Returns every entry, or
 * throws one ScheduleFileError listing every problem in every file — nothing is returned
 * when anything is wrong.
 */
export async function loadScheduleFiles(paths: readonly string[]): Promise<ScheduleEntry[]> {
  const issues: ScheduleFileIssue[] = [];
  const files: string[] = [];
  for (const path of paths) files.push(...(await expand(path, issues)));
  const entries: LocatedEntry[] = [];
  const firstSeen = new Map<string, LocatedEntry>();
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (error) {
      issues.push({ file, message: `cannot read (${(error as Error).message})` });
      continue;
    }
    const result = checkScheduleFile(text, file);
    issues.push(...result.issues);
    for (const located of result.entries) {
      const first = firstSeen.get(located.entry.id);
      if (first) {
        issues.push({
          file,
          line: located.line,
          schedule: located.entry.id,
          field: "id",
          message: `duplicate id (first defined at ${first.file}${first.line === undefined ? "" : `:${first.line}`})`,
        });
        continue;
      }
      firstSeen.set(located.entry.id, located);
      entries.push(located);
    }
  }
  if (paths.length === 0) issues.push({ file: "(none)", message: "no schedule files given" });
  if (issues.length > 0) throw new ScheduleFileError(issues);
  return entries.map((e) => e.entry);
}
