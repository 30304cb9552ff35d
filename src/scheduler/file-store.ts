/**
 * The file store: schedule entries defined by schedule files, their run state kept in a
 * schedule store.
 *
 * `stem beat --schedules FILE|DIR` uses it. The files say which entries exist and what
 * they do; the state store (STEM_SCHEDULE_STORE_URL, or the default connection's store —
 * the embedded SQLite file when nothing is configured) keeps, per entry id, the next run,
 * last run, counters, drift and history, so a restarted Beat resumes where it stopped.
 * Loading the files writes their definitions into the state store as `stem schedule
 * apply` does (execution state kept). The store sees only the entries the files define;
 * other entries in the state store are left alone and not run by this Beat.
 *
 * The files are watched through `changeToken()`, which Beat polls: when a file changes,
 * is added or removed, they are read again and applied whole — or, when any entry is
 * invalid, refused whole with the error logged and the previous definitions kept.
 */
import { readdir, stat } from "node:fs/promises";
import { extname, join } from "node:path";
import type { ScheduleStore } from "../adapters/contracts.ts";
import { type Clock, systemClock } from "../core/clock.ts";
import { logger } from "../core/logger.ts";
import type { ScheduleEntry, ScheduleExecution, ScheduleRunRecord } from "../core/schedule.ts";
import { type ApplyItem, applySchedules, planDefinition } from "./apply.ts";
import { loadScheduleFiles, SCHEDULE_FILE_EXTENSIONS } from "./load-schedule-files.ts";
import type { NextRunOptions } from "./next-run.ts";
import { ScheduleFileError } from "./schedule-file.ts";

export interface FileScheduleStoreOptions {
  /** Schedule files and directories of them (see loadScheduleFiles). */
  paths: readonly string[];
  /** Where run state is kept. Not closed by this store. */
  state: ScheduleStore;
  /**
   * Write the definitions into the state store when loading (Beat). False for read-only
   * views (`stem schedule list --schedules`): entries not stored yet are shown as they
   * would be created.
   */
  sync?: boolean;
  clock?: Clock;
  nextRun?: NextRunOptions;
}

/** Schedule entries from files, run state from a schedule store. Call `load()` first. */
export class FileScheduleStore implements ScheduleStore {
  readonly paths: readonly string[];
  private readonly state: ScheduleStore;
  private readonly sync: boolean;
  private readonly clock: Clock;
  private readonly nextRun: NextRunOptions;
  private definitions = new Map<string, ScheduleEntry>();
  private signature: string | null = null;
  private refusedSignature: string | null = null;
  private generation = 0;

  constructor(options: FileScheduleStoreOptions) {
    this.paths = [...options.paths];
    this.state = options.state;
    this.sync = options.sync ?? true;
    this.clock = options.clock ?? systemClock;
    this.nextRun = options.nextRun ?? {};
  }

  /**
   * Reads the files (all or nothing: a ScheduleFileError names every bad file, line and
   * field) and, when syncing, applies them to the state store. Returns what was applied.
   */
  async load(): Promise<ApplyItem[]> {
    const signature = await this.fileSignature();
    const entries = await loadScheduleFiles(this.paths);
    const items = this.sync
      ? await applySchedules(this.state, entries, { clock: this.clock, nextRun: this.nextRun })
      : [];
    this.definitions = new Map(entries.map((e) => [e.id, e]));
    this.signature = signature;
    this.refusedSignature = null;
    this.generation++;
    return items;
  }

  /** The ids the files define, sorted. */
  get ids(): string[] {
    return [...this.definitions.keys()].sort();
  }

  /** A fingerprint of the files (names, sizes, modification times) to notice edits. */
  private async fileSignature(): Promise<string> {
    const parts: string[] = [];
    for (const path of this.paths) {
      try {
        const info = await stat(path);
        if (!info.isDirectory()) {
          parts.push(`${path}:${info.size}:${info.mtimeMs}`);
          continue;
        }
        const names = (await readdir(path))
          .filter((n) =>
            (SCHEDULE_FILE_EXTENSIONS as readonly string[]).includes(extname(n).toLowerCase()),
          )
          .sort();
        parts.push(`${path}/`);
        for (const name of names) {
          const file = await stat(join(path, name)).catch(() => null);
          parts.push(`${name}:${file?.size}:${file?.mtimeMs}`);
        }
      } catch {
        parts.push(`${path}:missing`);
      }
    }
    return parts.join("|");
  }

  /** Re-reads the files when they changed since the last load. */
  private async reloadIfChanged(): Promise<void> {
    if (this.signature === null) return;
    const signature = await this.fileSignature();
    if (signature === this.signature || signature === this.refusedSignature) return;
    try {
      const items = await this.load();
      const changed = items
        .filter((i) => i.action !== "unchanged")
        .map((i) => `${i.id} (${i.action}d)`);
      logger.info(
        `schedule files changed: ${this.definitions.size} entries${changed.length ? `; ${changed.join(", ")}` : ""}`,
      );
    } catch (error) {
      if (!(error instanceof ScheduleFileError)) throw error;
      this.refusedSignature = signature;
      logger.error(`${error.message}\nkeeping the schedules loaded before`);
    }
  }

  private async stored(): Promise<Map<string, ScheduleEntry>> {
    const map = new Map<string, ScheduleEntry>();
    for (const entry of await this.state.list()) {
      if (this.definitions.has(entry.id)) map.set(entry.id, entry);
    }
    return map;
  }

  /** The stored entry, or the entry as it would be created when not stored yet. */
  private view(definition: ScheduleEntry, stored: ScheduleEntry | undefined): ScheduleEntry {
    return stored ?? planDefinition(definition, null, this.clock.now(), this.nextRun).entry;
  }

  upsert(entry: ScheduleEntry): Promise<ScheduleEntry> {
    return this.state.upsert(entry);
  }

  async get(id: string): Promise<ScheduleEntry | null> {
    const definition = this.definitions.get(id);
    if (!definition) return null;
    return this.view(definition, (await this.state.get(id)) ?? undefined);
  }

  async list(): Promise<ScheduleEntry[]> {
    const stored = await this.stored();
    return this.ids.map((id) =>
      this.view(this.definitions.get(id) as ScheduleEntry, stored.get(id)),
    );
  }

  remove(id: string): Promise<boolean> {
    return this.state.remove(id);
  }

  async due(now: number, limit = 100): Promise<ScheduleEntry[]> {
    return [...(await this.stored()).values()]
      .filter((e) => e.enabled && e.nextRunAt !== undefined && e.nextRunAt <= now)
      .sort((a, b) => (a.nextRunAt as number) - (b.nextRunAt as number) || a.id.localeCompare(b.id))
      .slice(0, limit);
  }

  async nextDueAt(): Promise<number | null> {
    let next: number | null = null;
    for (const e of (await this.stored()).values()) {
      if (e.enabled && e.nextRunAt !== undefined && (next === null || e.nextRunAt < next)) {
        next = e.nextRunAt;
      }
    }
    return next;
  }

  markExecuted(id: string, execution: ScheduleExecution): Promise<ScheduleEntry | null> {
    return this.state.markExecuted(id, execution);
  }

  setEnabled(id: string, enabled: boolean): Promise<ScheduleEntry | null> {
    return this.state.setEnabled(id, enabled);
  }

  history(id: string, limit?: number): Promise<ScheduleRunRecord[]> {
    return this.state.history(id, limit);
  }

  /** Changes with the state store and with every reload of the files (checked here). */
  async changeToken(): Promise<string> {
    await this.reloadIfChanged();
    return `${await this.state.changeToken()}/${this.generation}`;
  }

  /** The state store belongs to its connection and stays open. */
  async close(): Promise<void> {}
}
