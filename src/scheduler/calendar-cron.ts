/**
 * Calendar specs (Celery's crontab filters) and the cron expressions they compile to.
 */
import type { CalendarSpec } from "../core/schedule.ts";

function field(values: readonly number[] | undefined): string {
  if (values === undefined) return "*";
  return [...new Set(values)].sort((a, b) => a - b).join(",");
}

/**
 * The cron expression equivalent to a calendar spec. Like Celery's `crontab`, every
 * omitted field means every value — including minutes, so `{hours: [9]}` is
 * `* 9 * * *` (each minute from 09:00 to 09:59), and `{hours: [9], minutes: [0]}` is
 * `0 9 * * *`. The filters all have to match: when both `monthdays` and `weekdays` are
 * given, a day must be in both (Celery's semantics; plain cron would OR them), which the
 * compiled expression states with croner's `+` day-of-week modifier
 * (`{monthdays: [13], weekdays: [5]}` → `* * 13 * +5`, Friday the 13th).
 * Weekdays are 0–6 with 0 = Sunday.
 */
export function calendarToCron(spec: CalendarSpec): string {
  const weekdays = field(spec.weekdays);
  const and = spec.monthdays !== undefined && spec.weekdays !== undefined ? "+" : "";
  return [
    field(spec.minutes),
    field(spec.hours),
    field(spec.monthdays),
    field(spec.months),
    `${and}${weekdays}`,
  ].join(" ");
}
