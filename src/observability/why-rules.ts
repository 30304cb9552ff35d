/**
 * The rules of `stem observe why`, most decisive first: each looks at the facts and either
 * explains what holds the task or passes (null). The queue rules (why-queue.ts) come last.
 */

import { CanvasMeta } from "../canvas/nodes.ts";
import { isTerminal } from "../core/states.ts";
import { holderParts, queueSlotsKey, taskSlotsKey } from "../worker/concurrency-gate.ts";
import { heartbeatIntervalOf, isLost } from "../worker/liveness.ts";
import { iso, lastEntry, span, type WhyFacts, when } from "./why-facts.ts";
import { noWorker, queuedBehind } from "./why-queue.ts";
import type { WhyExplanation } from "./why-types.ts";

type Rule = (facts: WhyFacts) => WhyExplanation | null | Promise<WhyExplanation | null>;

const replayCommand = (id: string) => `stem dlq replay ${id}`;

/** A chain, group or chord record that has not finished: which members it waits for. */
async function waitingOnMembers(facts: WhyFacts): Promise<WhyExplanation | null> {
  const status = facts.status;
  if (!status || !(CanvasMeta.kind in status.meta) || isTerminal(status.state)) return null;
  const unsettled = await facts.sources.canvas.handle(facts.id).unsettled();
  if (unsettled.length === 0) return null;
  const kind = String(status.meta[CanvasMeta.kind]);
  const missing = unsettled.map((m) => ({ id: m.id, name: m.name, state: m.state }));
  return {
    cause: "waiting-on-members",
    summary: `This ${kind} waits on ${missing.length} member(s) that have not finished: ${missing
      .map((m) => `${m.id} (${m.name}, ${m.state})`)
      .join(", ")}.`,
    fix: `ask about a missing member: stem observe why ${missing[0].id}`,
    evidence: { kind, missingMembers: missing },
  };
}

function deadLettered(facts: WhyFacts): WhyExplanation | null {
  const dead = facts.deadLetter;
  if (!dead) return null;
  const lastError =
    typeof dead.meta.error === "string" ? dead.meta.error : facts.status?.error?.message;
  return {
    cause: "dead-lettered",
    summary:
      `In the dead-letter queue of ${dead.queue} since ${iso(dead.deadAt)}: ${dead.reason}` +
      `${lastError ? `; last error: ${lastError}` : ""}. It will not run unless replayed.`,
    fix: `replay it: ${replayCommand(facts.id)}`,
    evidence: {
      queue: dead.queue,
      reason: dead.reason,
      deadAt: dead.deadAt,
      lastError,
      meta: dead.meta,
    },
  };
}

function finished(facts: WhyFacts): WhyExplanation | null {
  const status = facts.status;
  if (!status || !isTerminal(status.state)) return null;
  const at = status.finishedAt ?? status.updatedAt;
  if (status.state === "revoked") {
    const reason = String(status.meta.revokedReason ?? status.meta.reason ?? "revoked");
    const expired = reason === "expired";
    const entry = facts.revocation;
    return {
      cause: expired ? "expired" : "revoked",
      summary: expired
        ? `Expired before it ran: a worker dropped it at ${iso(at)}.`
        : `Revoked (${reason}); settled at ${iso(at)}${entry ? `, revoked at ${iso(entry.issuedAt)} by ${entry.requestedBy ?? "an unknown caller"}` : ""}. It will not run.`,
      fix: "enqueue it again if it should run",
      evidence: { state: status.state, reason, finishedAt: at, revocation: entry ?? null },
    };
  }
  const outcome =
    status.state === "succeeded"
      ? `with result ${JSON.stringify(status.result ?? null)}`
      : `with error ${status.error ? `${status.error.type}: ${status.error.message}` : "(none kept)"}`;
  return {
    cause: "finished",
    summary: `Already finished: ${status.state} at ${iso(at)} ${outcome} (attempt ${status.attempt}).`,
    evidence: {
      state: status.state,
      finishedAt: at,
      result: status.result,
      error: status.error ?? null,
      attempt: status.attempt,
    },
  };
}

function revokePending(facts: WhyFacts): WhyExplanation | null {
  const entry = facts.revocation;
  if (!entry) return null;
  return {
    cause: "revoked",
    summary:
      `Revoked at ${iso(entry.issuedAt)} by ${entry.requestedBy ?? "an unknown caller"}` +
      `${entry.reason ? ` (${entry.reason})` : ""}: the worker that receives it skips it` +
      `${entry.terminate ? ", and stops it if it is running" : ""}.`,
    evidence: { revocation: entry },
  };
}

function expired(facts: WhyFacts): WhyExplanation | null {
  const expiresAt = lastEntry(facts, "queued")?.expiresAt;
  if (expiresAt === undefined || expiresAt > facts.now) return null;
  return {
    cause: "expired",
    summary: `Expired at ${iso(expiresAt)} without running: the worker that receives it drops it as revoked (expired).`,
    fix: "enqueue it again with a later `expires` if it should still run",
    evidence: { expiresAt },
  };
}

/** Running, on a live worker or a silent one (then its lease runs out and it is redelivered). */
function running(facts: WhyFacts): WhyExplanation | null {
  const status = facts.status;
  if (status?.state !== "running") return null;
  const worker = status.workerId ?? "an unknown worker";
  const started = lastEntry(facts, "started");
  const leaseMs = started?.leaseMs;
  const beat = facts.heartbeats.find((b) => b.workerId === status.workerId);
  if (beat && !isLost(beat, facts.now)) {
    const progress = status.progress ? `, ${status.progress.percent}% done` : "";
    return {
      cause: "running",
      summary: `Running on ${worker} since ${when(status.startedAt ?? status.updatedAt, facts.now)} (attempt ${status.attempt}${progress}); the worker is alive (heartbeat ${span(facts.now - beat.timestamp)} ago).`,
      evidence: {
        workerId: worker,
        startedAt: status.startedAt,
        heartbeatAt: beat.timestamp,
        progress: status.progress ?? null,
      },
    };
  }
  // The lease was last renewed about when the heartbeats stopped; it runs out a lease later.
  const silentSince = beat?.timestamp ?? status.updatedAt;
  const leaseEndsAt = leaseMs === undefined ? undefined : silentSince + leaseMs;
  const lease =
    leaseEndsAt === undefined
      ? "its lease runs out one lease length after that"
      : `its lease ends by ${when(leaseEndsAt, facts.now)}`;
  return {
    cause: "worker-lost",
    summary:
      `Held by worker ${worker}, whose heartbeat stopped at ${iso(silentSince)}` +
      `${beat ? ` (expected every ${span(heartbeatIntervalOf(beat))})` : " (its heartbeat is gone)"}: ` +
      `${lease}, then the broker delivers it to another worker.`,
    fix: "nothing to do unless no other worker consumes the queue; the redelivery counts against the task's delivery limit",
    evidence: {
      workerId: worker,
      silentSince,
      leaseMs: leaseMs ?? null,
      leaseEndsAt: leaseEndsAt ?? null,
    },
  };
}

/** Due later: a delay or eta, a retry backoff, a rate-limit deferral. */
function notDue(facts: WhyFacts): WhyExplanation | null {
  const status = facts.status;
  if (!status) return null;
  const now = facts.now;
  const retryAt = status.meta.nextRetryAt;
  if (status.state === "retrying" && typeof retryAt === "number" && retryAt > now) {
    return {
      cause: "not-due",
      summary: `Not due yet: attempt ${status.attempt} failed (${status.error?.message ?? "no error kept"}); the retry is due at ${when(retryAt, now)}.`,
      evidence: { dueAt: retryAt, reason: "retry backoff", lastError: status.error ?? null },
    };
  }
  const limited = facts.timeline.at(-1);
  if (limited?.event === "rate-limited" && limited.dueAt && limited.dueAt > now) {
    return {
      cause: "rate-limited",
      summary: `Rate limit exhausted (${limited.reason ?? "its task's rate limit"}): ${limited.worker ?? "a worker"} sent it back to the queue; next token for it at ${when(limited.dueAt, now)}.`,
      fix: "raise the task's rateLimit, or wait: tasks over the limit run in turn",
      evidence: { dueAt: limited.dueAt, rateLimit: limited.reason, workerId: limited.worker },
    };
  }
  const notBefore = status.meta.notBefore;
  if (status.state === "queued" && typeof notBefore === "number" && notBefore > now) {
    return {
      cause: "not-due",
      summary: `Not due yet: it was enqueued with a delay or eta and is due at ${when(notBefore, now)}.`,
      evidence: { dueAt: notBefore, reason: "delay or eta" },
    };
  }
  return null;
}

function paused(facts: WhyFacts): WhyExplanation | null {
  const pause = facts.pause;
  if (!pause) return null;
  const queue = pause.taskId;
  return {
    cause: "queue-paused",
    summary: `Queue ${queue} is paused (since ${iso(pause.issuedAt)}, by ${pause.requestedBy ?? "an unknown caller"}): no worker takes its tasks until it is resumed.`,
    fix: `stem worker resume --queue ${queue}`,
    evidence: { queue, pausedAt: pause.issuedAt, pausedBy: pause.requestedBy ?? null },
  };
}

/** Every slot of its task name's or its queue's global concurrency limit is taken. */
function concurrencyFull(facts: WhyFacts): WhyExplanation | null {
  if (facts.status?.state !== "queued") return null;
  const full = facts.slots.find((usage) => usage.used >= usage.limit);
  if (!full) return null;
  const queuePrefix = queueSlotsKey("");
  const [kind, subject] = full.key.startsWith(queuePrefix)
    ? ["queue", full.key.slice(queuePrefix.length)]
    : ["task", full.key.slice(taskSlotsKey("").length)];
  const held = full.holders.map(holderParts);
  return {
    cause: "concurrency-limit",
    summary: `The global concurrency limit of ${kind} ${subject} is reached: ${full.used} of ${full.limit} slot(s) taken (${held.map((h) => (h.task ? `task ${h.task} on ${h.worker}` : h.worker)).join(", ")}); it runs when one frees.`,
    fix: `wait for those tasks, or raise the limit (${kind === "queue" ? "--global-concurrency on the queue's workers" : "the task's globalConcurrency"})`,
    evidence: { key: full.key, limit: full.limit, used: full.used, holders: held },
  };
}

/** Its uniqueness lock is held by another task: enqueues with its key return that task. */
async function uniqueLock(facts: WhyFacts): Promise<WhyExplanation | null> {
  const key = lastEntry(facts, "queued")?.uniqueKey;
  if (!key) return null;
  const owner = await facts.sources.lockStore.ownerOf(key);
  if (!owner || owner === facts.id) return null;
  return {
    cause: "unique-lock",
    summary: `Its uniqueness lock ${key} is held by task ${owner}: while it is, enqueues with this key return ${owner} instead of running another copy.`,
    fix: `see what holds ${owner}: stem observe why ${owner}`,
    evidence: { uniqueKey: key, heldBy: owner },
  };
}

/** The rules in the order they are tried; the first that explains the task wins. */
export const RULES: Rule[] = [
  waitingOnMembers,
  deadLettered,
  finished,
  revokePending,
  expired,
  running,
  notDue,
  paused,
  concurrencyFull,
  uniqueLock,
  (facts) => noWorker(facts, facts.status?.queue ?? ""),
  (facts) => queuedBehind(facts, facts.status?.queue ?? ""),
];
