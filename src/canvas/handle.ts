/**
 * Handles on started canvases: wait for the final result, read the canvas state and the
 * state of each member. A handle only needs the canvas id; everything is read from the
 * result backend, so a handle made in another process (`canvas.handle(id)`) works too.
 */
import type { ResultBackend } from "../adapters/contracts.ts";
import { systemClock } from "../core/clock.ts";
import { type DurationInput, parseDuration } from "../core/duration.ts";
import { StemError, TimeoutError } from "../core/errors.ts";
import { isTerminal, type TaskError, type TaskState, type TaskStatus } from "../core/states.ts";
import { CanvasMeta, type MemberRef } from "./nodes.ts";
import type { CanvasKind } from "./signatures.ts";

/** The kinds a canvas handle can have. */
export type CanvasHandleKind = Exclude<CanvasKind, "task">;

/**
 * Thrown by `handle.get()` when a canvas failed: a chain member failed (the rest were not
 * run), a group or chord member failed (a chord's callback is then never run), or a chord
 * callback failed. `memberId` is the task that failed and `memberError` its error.
 */
export class CanvasError extends StemError {
  constructor(
    readonly canvasId: string,
    readonly kind: CanvasHandleKind,
    readonly memberId: string,
    readonly memberError: TaskError,
    readonly status: TaskStatus,
  ) {
    super(
      "task_failed",
      `${kind} ${canvasId} failed: member ${memberId} failed with ${memberError.type}: ${memberError.message}`,
    );
    this.name = "CanvasError";
  }
}

/** A canvas's progress as `handle.status()` reports it. */
export interface CanvasStatus {
  id: string;
  kind: CanvasHandleKind;
  /** queued, running, succeeded or failed. */
  state: TaskState;
  /** Members finished so far (chain: steps that succeeded). */
  completed: number;
  /** Number of members (a chord's callback not counted). */
  total: number;
  result?: unknown;
  error?: TaskError;
  /** The task that failed, when the canvas failed. */
  failedMember?: string;
  /** The stored record. */
  record: TaskStatus;
}

/** One member of a canvas and its current state. */
export interface CanvasMember {
  /** Position in the order given (the chord callback comes last). */
  index: number;
  id: string;
  kind: CanvasKind;
  /** Task name, or `stem.chain` / `stem.group` / `stem.chord` for nested canvases. */
  name: string;
  role: "member" | "callback";
  /** `pending` when nothing is stored yet (a chain step not reached). */
  state: TaskState;
  result?: unknown;
  error?: TaskError;
  /** The stored status, when there is one. Not-run chain members are `revoked` with meta.reason `chain-aborted`. */
  status: TaskStatus | null;
}

/** A started chain, group or chord. */
export class CanvasHandle<T = unknown> {
  constructor(
    private readonly backend: ResultBackend,
    readonly id: string,
    /** Known when the handle comes from starting the canvas; read from the record otherwise. */
    private knownKind?: CanvasHandleKind,
  ) {}

  /** The canvas kind (reads the record when the handle was made from an id). */
  async kind(): Promise<CanvasHandleKind> {
    if (!this.knownKind) this.knownKind = kindOf(await this.record());
    return this.knownKind;
  }

  private async record(): Promise<TaskStatus> {
    const record = await this.backend.get(this.id);
    if (!record)
      throw new StemError("not_found", `no canvas with id ${this.id} (unknown or expired)`);
    if (!(CanvasMeta.kind in record.meta)) {
      throw new StemError(
        "invalid_argument",
        `${this.id} is a task (${record.name}), not a canvas`,
      );
    }
    return record;
  }

  /**
   * Waits for the canvas to finish and returns its result: a chain's last result, a
   * group's member results in the order given (whatever order they finished in), a
   * chord's callback result. Rejects with CanvasError (the failing member's id and error
   * attached) when it failed, and TimeoutError after `timeout` (default 5 minutes).
   */
  async get(options: { timeout?: DurationInput } = {}): Promise<T> {
    const timeoutMs = parseDuration(options.timeout ?? "5m", "timeout");
    const deadline = Date.now() + timeoutMs;
    let pause = 5;
    for (;;) {
      const record = await this.record();
      if (isTerminal(record.state)) {
        if (record.state === "succeeded") return record.result as T;
        const memberId =
          typeof record.meta.failedMember === "string" ? record.meta.failedMember : this.id;
        const error = record.error ?? {
          type: "CanvasFailed",
          message: `canvas ended ${record.state}`,
        };
        throw new CanvasError(this.id, kindOf(record), memberId, error, record);
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new TimeoutError(
          `${kindOf(record)} ${this.id} did not finish within ${timeoutMs} ms (state: ${record.state})`,
        );
      }
      await systemClock.sleep(Math.min(pause, left));
      pause = Math.min(pause * 2, 100);
    }
  }

  /** The canvas state with progress counts. */
  async status(): Promise<CanvasStatus> {
    const record = await this.record();
    const kind = kindOf(record);
    const members = membersOf(record);
    let completed = typeof record.meta.completed === "number" ? record.meta.completed : 0;
    let state = record.state;
    if (kind !== "chain") {
      const group = await this.backend.getGroup(this.id);
      completed = group?.completed ?? (state === "succeeded" ? members.length : 0);
      if (state === "queued" && completed > 0) state = "running";
    }
    const status: CanvasStatus = {
      id: this.id,
      kind,
      state,
      completed,
      total: members.length,
      record,
    };
    if (record.result !== undefined) status.result = record.result;
    if (record.error) status.error = record.error;
    if (typeof record.meta.failedMember === "string")
      status.failedMember = record.meta.failedMember;
    return status;
  }

  /**
   * Members (not a chord's callback) that have not settled yet: what a group or chord
   * still waits for, the steps of a chain not finished. For a chord that timed out, its
   * record's `meta.missing` keeps the ones missing at the timeout.
   */
  async unsettled(): Promise<CanvasMember[]> {
    return (await this.members()).filter((m) => m.role === "member" && !isTerminal(m.state));
  }

  /** Every member (and a chord's callback, last) with its current state. */
  async members(): Promise<CanvasMember[]> {
    const record = await this.record();
    const refs = membersOf(record).map((ref) => ({ ref, role: "member" as const }));
    const callback = record.meta.callback as MemberRef | undefined;
    const all = callback ? [...refs, { ref: callback, role: "callback" as const }] : refs;
    const statuses = await this.backend.getMany(all.map((m) => m.ref.id));
    // The canvas keeps each member's final status as the worker settled it (group results
    // by index; a chord's callback in the chord record). Those win over the member's own
    // record, which an enqueue racing a fast member can leave at "queued".
    const group = await this.backend.getGroup(this.id);
    const callbackStatus = record.meta.callbackStatus as TaskStatus | undefined;
    return all.map(({ ref, role }, index) => {
      const recorded = role === "member" ? group?.results[index] : callbackStatus;
      const status = recorded ?? statuses[index];
      const member: CanvasMember = {
        index,
        id: ref.id,
        kind: ref.kind,
        name: ref.name,
        role,
        state: status?.state ?? "pending",
        status,
      };
      if (status?.result !== undefined) member.result = status.result;
      if (status?.error) member.error = status.error;
      return member;
    });
  }
}

function kindOf(record: TaskStatus): CanvasHandleKind {
  return record.meta[CanvasMeta.kind] as CanvasHandleKind;
}

function membersOf(record: TaskStatus): MemberRef[] {
  return Array.isArray(record.meta.members) ? (record.meta.members as MemberRef[]) : [];
}
