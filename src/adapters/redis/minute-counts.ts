/**
 * Per-minute counters on Redis: one hash per minute (field `series\ncounter`), expiring
 * an hour after the retention so an unpruned store still stays bounded, and a ZSET of
 * the minutes that have one, for range reads and pruning.
 */

import { MINUTE_COUNTS_RETENTION_MS } from "../../core/minute-counts.ts";
import type { MinuteCount, MinuteCountQuery } from "../contracts.ts";
import type { RedisClient } from "./client.ts";
import type { RedisKeys } from "./keys.ts";
import { addMinuteCountsScript } from "./lua/add-minute-counts-1-n.ts";
import { pruneMinuteCountsScript } from "./lua/prune-minute-counts-1-n.ts";
import { execPipeline, runScript, type ScriptArg } from "./scripts.ts";

const TTL_MS = MINUTE_COUNTS_RETENTION_MS + 3_600_000;

export const MINUTE_COUNT_SCRIPTS = [addMinuteCountsScript, pruneMinuteCountsScript];

export async function addMinuteCounts(
  client: RedisClient,
  keys: RedisKeys,
  counts: MinuteCount[],
): Promise<void> {
  if (counts.length === 0) return;
  const args: ScriptArg[] = [TTL_MS];
  for (const c of counts) args.push(c.minute, `${c.series}\n${c.counter}`, c.value);
  await runScript(
    client,
    addMinuteCountsScript,
    [keys.minuteCountIndex, ...counts.map((c) => keys.minuteCounts(c.minute))],
    args,
  );
}

export async function readMinuteCounts(
  client: RedisClient,
  keys: RedisKeys,
  query: MinuteCountQuery,
): Promise<MinuteCount[]> {
  const minutes = await client.zrangebyscore(keys.minuteCountIndex, query.from, `(${query.to}`);
  if (minutes.length === 0) return [];
  const pipeline = client.pipeline();
  for (const minute of minutes) pipeline.hgetall(keys.minuteCounts(minute));
  const hashes = (await execPipeline(pipeline)) as Record<string, string>[];
  const out: MinuteCount[] = [];
  minutes.forEach((minute, i) => {
    for (const [field, value] of Object.entries(hashes[i])) {
      // Counter names never hold a newline; series (task names) might.
      const cut = field.lastIndexOf("\n");
      const series = field.slice(0, cut);
      if (query.series !== undefined && series !== query.series) continue;
      out.push({
        minute: Number(minute),
        series,
        counter: field.slice(cut + 1),
        value: Number(value),
      });
    }
  });
  return out;
}

export async function pruneMinuteCounts(
  client: RedisClient,
  keys: RedisKeys,
  before: number,
): Promise<void> {
  const minutes = await client.zrangebyscore(keys.minuteCountIndex, "-inf", `(${before}`);
  // Chunks keep each call short (Redis runs one script at a time).
  for (let from = 0; from < minutes.length; from += 1000) {
    const chunk = minutes.slice(from, from + 1000);
    await runScript(
      client,
      pruneMinuteCountsScript,
      [keys.minuteCountIndex, ...chunk.map((minute) => keys.minuteCounts(minute))],
      chunk,
    );
  }
}
