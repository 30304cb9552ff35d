/** Dead letters: filter by queue, reason and time; detail; replay one, selected or all matching; purge. */
import type { DeadLetter } from "../../adapters/contracts.ts";
import type { DashboardContext } from "../context.ts";
import { badRequest, intParam, notFound, stringField, stringList, parseTime } from "../http.ts";
import type { Route } from "../routes.ts";

/** Pages read at a time when collecting every match of a filter. */
const PAGE = 200;

interface DeadLetterFilter {
  queue?: string;
  reason?: string;
  since?: number;
}

/** Every dead letter matching the filter (the broker filters queue and time; reason here). */
async function allMatching(ctx: DashboardContext, filter: DeadLetterFilter): Promise<DeadLetter[]> {
  const matches: DeadLetter[] = [];
  for (let offset = 0; ; offset += PAGE) {
    const page = await ctx.client.broker.listDeadLetters({
      queue: filter.queue,
      since: filter.since,
      limit: PAGE,
      offset,
    });
    matches.push(...page.filter((e) => !filter.reason || e.reason === filter.reason));
    if (page.length < PAGE) return matches;
  }
}

function filterFrom(source: { get(name: string): string | null }): DeadLetterFilter {
  return {
    queue: source.get("queue") || undefined,
    reason: source.get("reason") || undefined,
    since: parseTime(source.get("since"), "since"),
  };
}

function bodyReader(body: Record<string, unknown>) {
  return {
    get(name: string): string | null {
      const value = body[name];
      if (value === undefined || value === null) return null;
      if (typeof value !== "string") throw badRequest(`"${name}" must be a string`);
      return value;
    },
  };
}

async function list(query: URLSearchParams, ctx: DashboardContext) {
  const limit = intParam(query, "limit", 50, 500);
  const offset = intParam(query, "offset", 0, 1_000_000);
  const filter = filterFrom(query);
  if (!filter.reason) {
    const entries = await ctx.client.broker.listDeadLetters({ ...filter, limit, offset });
    return { entries, limit, offset };
  }
  const all = await allMatching(ctx, filter);
  return { entries: all.slice(offset, offset + limit), limit, offset, total: all.length };
}

async function replay(body: Record<string, unknown>, ctx: DashboardContext) {
  const ids = stringList(body, "ids");
  const all = body.all === true;
  if (!ids && !all)
    throw badRequest('give "ids" (a list of task ids) or "all": true with an optional filter');
  if (ids && all) throw badRequest('give either "ids" or "all", not both');
  if (ids?.length === 0) throw badRequest('"ids" is empty: select at least one dead letter');
  let targets = ids;
  if (ids) {
    const missing = (await Promise.all(ids.map((id) => ctx.client.broker.getDeadLetter(id))))
      .map((entry, i) => (entry ? null : ids[i]))
      .filter((id) => id !== null);
    if (missing.length) throw notFound(`no dead letter with task id ${missing.join(", ")}`);
  } else {
    targets = (await allMatching(ctx, filterFrom(bodyReader(body)))).map((e) => e.envelope.id);
  }
  const replayed: string[] = [];
  const skipped: string[] = [];
  for (let i = 0; i < (targets as string[]).length; i += PAGE) {
    const result = await ctx.client.broker.replayDeadLetters({
      ids: (targets as string[]).slice(i, i + PAGE),
    });
    replayed.push(...result.entries.map((e) => e.envelope.id));
    skipped.push(...result.skipped.map((e) => e.envelope.id));
  }
  return { replayed, skipped };
}

export const deadLetterRoutes: Route[] = [
  {
    method: "GET",
    path: "/api/dead-letters",
    summary: "Dead letters, newest first, filtered by queue, reason and time",
    query: {
      queue: "queue name",
      reason: "reason (exact)",
      since: "dead-lettered at or after (ISO time)",
      limit: "page size (default 50, at most 500)",
      offset: "skip this many",
    },
    handle: (input, ctx) => list(input.query, ctx),
  },
  {
    method: "GET",
    path: "/api/dead-letters/:id",
    summary: "One dead letter with its envelope",
    handle: async (input, ctx) => {
      const entry = await ctx.client.broker.getDeadLetter(input.params.id);
      if (!entry) throw notFound(`no dead letter with task id ${input.params.id}`);
      return entry;
    },
  },
  {
    method: "POST",
    path: "/api/dead-letters/replay",
    summary:
      "Replay dead letters: those in `ids`, or with `all` every one matching queue/reason/since; ids queued again are skipped and kept",
    body: {
      ids: "task ids",
      all: "boolean",
      queue: "filter",
      reason: "filter",
      since: "filter (ISO time)",
    },
    handle: (input, ctx) => replay(input.body, ctx),
  },
  {
    method: "POST",
    path: "/api/dead-letters/purge",
    summary: "Delete dead letters (of `queue`, or all; `since` limits by time); returns how many",
    body: { queue: "queue name", since: "ISO time" },
    handle: async (input, ctx) => {
      const { queue, since } = filterFrom(bodyReader(input.body));
      if (stringField(input.body, "reason")) throw badRequest("purge cannot filter by reason");
      return { removed: await ctx.client.broker.purgeDeadLetters({ queue, since }) };
    },
  },
];
