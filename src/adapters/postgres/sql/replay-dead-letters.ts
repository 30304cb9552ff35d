import type postgres from "postgres";
import type { ReplayOptions, ReplayResult } from "../../contracts.ts";
import { replayedEnvelope } from "../../dead-letters.ts";
import { table } from "../database.ts";
import { selectDeadLetters, toDeadLetter } from "./dead-letter-rows.ts";
import { publishJobs } from "./publish-jobs.ts";

/**
 * Re-publishes dead letters, oldest first, in one transaction: the selected entries are
 * locked, published with attempts reset and the replay counted (shared
 * `replayedEnvelope`), and removed from the dead letters. An entry whose id is queued
 * again meanwhile is not published and stays a dead letter (skipped). A dry run only selects.
 */
export async function replayDeadLetters(
  sql: postgres.Sql,
  schema: string,
  options: ReplayOptions,
): Promise<ReplayResult> {
  if (options.dryRun) {
    const rows = await selectDeadLetters(sql, schema, options, "oldest");
    return { dryRun: true, entries: rows.map(toDeadLetter), skipped: [] };
  }
  return sql.begin(async (tx) => {
    const entries = (await selectDeadLetters(tx, schema, options, "oldest", true)).map(
      toDeadLetter,
    );
    const now = Date.now();
    const { accepted } = await publishJobs(
      tx,
      schema,
      entries.map((e) => replayedEnvelope(e, now, options.delayMs)),
    );
    if (accepted.length > 0) {
      await tx`DELETE FROM ${table(tx, schema, "dead_letters")} WHERE id = ANY(${accepted}::text[])`;
    }
    const replayed = new Set(accepted);
    return {
      dryRun: false,
      entries: entries.filter((e) => replayed.has(e.envelope.id)),
      skipped: entries.filter((e) => !replayed.has(e.envelope.id)),
    };
  });
}
