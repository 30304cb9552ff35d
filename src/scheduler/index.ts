/**
 * Schedules: specs and their validation, next-run calculation (cron with time zones and
 * DST, intervals, solar events, one-off times, calendars), descriptions, and schedule
 * files, and Beat (src/scheduler/beat.ts) with applying definitions, the file store and
 * the missed-run policy.
 */
export { calendarToCron } from "./calendar-cron.ts";
export { type CompiledCron, compileCron } from "./cron-expression.ts";
export { nextCronRun } from "./cron-next-run.ts";
export { describeSpec } from "./describe.ts";
export { ENTRY_KEYS, parseEntryDefinition } from "./entry-definition.ts";
export { type FieldIssue, type FieldPath, describeIssue } from "./field-issues.ts";
export { nextIntervalRun } from "./interval-next-run.ts";
export { loadScheduleFiles, SCHEDULE_FILE_EXTENSIONS } from "./load-schedule-files.ts";
export { type NextRunOptions, nextRunAt, nextRuns, type SchedulableEntry } from "./next-run.ts";
export {
  checkScheduleFile,
  formatFileIssue,
  type LocatedEntry,
  parseScheduleFile,
  ScheduleFileError,
  type ScheduleFileIssue,
  type ScheduleFileResult,
} from "./schedule-file.ts";
export {
  nextSolarRun,
  SOLAR_SEARCH_DAYS,
  type SolarRun,
  type SolarSkip,
} from "./solar-next-run.ts";
export { CALENDAR_RANGES, parseSpec, SPEC_KINDS, validateSpec } from "./spec-validation.ts";
export {
  instantsOfWallTime,
  localDate,
  offsetAt,
  toWallTime,
  type WallTimeInstants,
} from "./time-zones.ts";
export { instantMs, isIanaTimeZone, parseSignedDuration } from "./value-checks.ts";
export {
  type ApplyAction,
  type ApplyItem,
  type ApplyOptions,
  applySchedules,
  mergeDefinition,
  setScheduleEnabled,
  updateEntry,
} from "./apply.ts";
export {
  Beat,
  type BeatOptions,
  type BeatProducer,
  type BeatSkip,
  type BeatStats,
  scheduleLockKey,
} from "./beat.ts";
export { parseScheduledTaskId, scheduledTaskId } from "./dispatch-id.ts";
export { FileScheduleStore, type FileScheduleStoreOptions } from "./file-store.ts";
export { decideMissedRuns, type MissedRunDecision } from "./missed-runs.ts";
export { type ScheduleOverview, type ScheduleOverviewRow, scheduleOverview } from "./overview.ts";
export {
  type ExplainableEntry,
  type ExplainedRun,
  type ExplainOptions,
  explainSchedule,
  explanationJson,
  type ScheduleExplanation,
} from "./explain.ts";
export type { MissedRunExplanation, RestartExplanation } from "./explain-restart.ts";
export { ENTRY_ALIASES, SPEC_ALIASES } from "./field-aliases.ts";
