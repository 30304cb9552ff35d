/**
 * How a contract suite gets adapters: `create` opens a fresh, isolated store (own file,
 * key prefix or schema) and returns the subject, a way to open a second instance on the
 * same store (another "process"), and a cleanup that removes everything it made.
 */
import { afterEach, beforeEach } from "bun:test";
import type { Broker, DeadLetter } from "../adapters/contracts.ts";

export interface ContractFactory<T> {
  create(): Promise<ContractSubject<T>>;
}

export interface ContractSubject<T> {
  subject: T;
  /** Another instance on the same underlying store. */
  peer(): Promise<T>;
  cleanup(): Promise<void>;
}

/**
 * Opens a fresh subject from `factory` before each test of the enclosing describe and
 * cleans it up after; tests read it as `fresh.current`.
 */
export function freshSubjectEachTest<T>(factory: ContractFactory<T>): {
  readonly current: ContractSubject<T>;
} {
  let current: ContractSubject<T> | undefined;
  beforeEach(async () => {
    current = await factory.create();
  });
  afterEach(async () => {
    await current?.cleanup();
    current = undefined;
  });
  return {
    get current() {
      if (!current) throw new Error("no subject: read it inside a test");
      return current;
    },
  };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `check` until it returns a value other than undefined/false, or throws after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 3000,
  what = "condition",
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value as T;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/**
 * The dead letter of task `id`, once there is one. A worker stores a task's final status,
 * which wakes `waitForTask`, just before it writes the dead letter: read after a wait,
 * the dead letter may be a moment away.
 */
export function deadLetterOf(
  broker: Pick<Broker, "getDeadLetter">,
  id: string,
  timeoutMs = 3000,
): Promise<DeadLetter> {
  return eventually(
    async () => (await broker.getDeadLetter(id)) ?? undefined,
    timeoutMs,
    `the dead letter of ${id}`,
  );
}

/** A unique name for queues and keys inside one suite run. */
let counter = 0;
export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${++counter}`;
}
