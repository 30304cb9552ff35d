/**
 * Every adapter contract against SQLite, twice: on a temporary file (the peer is a second
 * connection to the same file, as another process would open it) and on `sqlite::memory:`
 * (which one connection owns, so the peer is the same connection's store).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { StoreConnection } from "../../src/adapters/contracts.ts";
import { openSqlite } from "../../src/adapters/sqlite/index.ts";
import {
  brokerContract,
  concurrencySlotsContract,
  type ContractFactory,
  controlBusContract,
  lockStoreContract,
  rateLimiterContract,
  minuteCountsContract,
  resultBackendContract,
  retentionContract,
  revokeStoreContract,
  scheduleStoreContract,
  workflowScriptFacadeContract,
  workflowFencingContract,
  workflowStoreContract,
  type WorkflowStoreContractFactory,
} from "../../src/testing/index.ts";

type Pick<T> = (connection: StoreConnection) => T;

/** A fresh database file per test; the peer opens the same file again. */
function onFile<T>(pick: Pick<T>): ContractFactory<T> {
  return {
    async create() {
      const folder = mkdtempSync(join(tmpdir(), "stem-sqlite-contract-"));
      const url = `sqlite://${join(folder, "stem.db")}`;
      const connections = [await openSqlite(url)];
      return {
        subject: pick(connections[0]),
        async peer() {
          const other = await openSqlite(url);
          connections.push(other);
          return pick(other);
        },
        async cleanup() {
          for (const connection of connections) await connection.close();
          rmSync(folder, { recursive: true, force: true });
        },
      };
    },
  };
}

/** A private in-memory database per test; it cannot be shared, so the peer is the subject. */
function inMemory<T>(pick: Pick<T>): ContractFactory<T> {
  return {
    async create() {
      const connection = await openSqlite("sqlite::memory:");
      const subject = pick(connection);
      return { subject, peer: async () => subject, cleanup: () => connection.close() };
    },
  };
}

for (const [label, factory] of [
  ["sqlite file", onFile],
  ["sqlite::memory:", inMemory],
] as const) {
  brokerContract(
    label,
    factory((c) => c.broker()),
  );
  resultBackendContract(
    label,
    factory((c) => c.resultBackend()),
  );
  minuteCountsContract(
    label,
    factory((c) => c.resultBackend()),
  );
  lockStoreContract(
    label,
    factory((c) => c.lockStore()),
  );
  revokeStoreContract(
    label,
    factory((c) => c.revokeStore()),
  );
  rateLimiterContract(
    label,
    factory((c) => c.rateLimiter()),
  );
  concurrencySlotsContract(
    label,
    factory((c) => c.concurrencySlots()),
  );
  scheduleStoreContract(
    label,
    factory((c) => c.scheduleStore()),
  );
  controlBusContract(
    label,
    factory((c) => c.controlBus()),
  );
  retentionContract(
    label,
    factory((c) => c),
  );
}

// The workflow store takes its time from the suite's fake clock, given to the connection.
const sqliteFileWorkflowStores: WorkflowStoreContractFactory = {
  async create(clock) {
    const folder = mkdtempSync(join(tmpdir(), "stem-sqlite-contract-"));
    const url = `sqlite://${join(folder, "stem.db")}`;
    const connections = [await openSqlite(url, { clock })];
    return {
      subject: connections[0].workflowStore(),
      async peer() {
        const other = await openSqlite(url, { clock });
        connections.push(other);
        return other.workflowStore();
      },
      async cleanup() {
        for (const connection of connections) await connection.close();
        rmSync(folder, { recursive: true, force: true });
      },
    };
  },
};
const sqliteMemoryWorkflowStores: WorkflowStoreContractFactory = {
  async create(clock) {
    const connection = await openSqlite("sqlite::memory:", { clock });
    const subject = connection.workflowStore();
    return { subject, peer: async () => subject, cleanup: () => connection.close() };
  },
};
for (const [label, factory] of [
  ["sqlite file", sqliteFileWorkflowStores],
  ["sqlite::memory:", sqliteMemoryWorkflowStores],
] as const) {
  workflowStoreContract(label, factory);
  workflowFencingContract(label, factory);
  workflowScriptFacadeContract(label, factory);
}
