/**
 * Registers the contract suites against a real PostgreSQL reached through `url()` (the
 * test server, or PgBouncer in front of it). Each create() gets its own random schema,
 * dropped afterwards; `peer()` is a second connection on the same schema, as another
 * process would have.
 */
import { afterAll } from "bun:test";
import type postgres from "postgres";
import { openPostgres, type PostgresStoreConnection } from "../../src/adapters/postgres/index.ts";
import type { Clock } from "../../src/core/clock.ts";
import {
  brokerContract,
  concurrencySlotsContract,
  type ContractFactory,
  type ContractSubject,
  controlBusContract,
  lockStoreContract,
  minuteCountsContract,
  rateLimiterContract,
  resultBackendContract,
  retentionContract,
  revokeStoreContract,
  scheduleStoreContract,
  workflowFencingContract,
  workflowStoreContract,
  type WorkflowStoreContractFactory,
} from "../../src/testing/index.ts";
import { adminClient, dropSchema, randomSchema } from "../e2e/fixtures/postgres-test-db.ts";
import { workflowStoreMatchesMemory, workflowStoreRaces } from "./workflow-store-checks.ts";

/** Which suites to register: every one, or those that differ between URL variants. */
export type PostgresSuites = "all" | "broker-and-control";

/**
 * Registers the suites as `name`; `url` gives the server URL (it may start a server
 * the first time it is called).
 */
export function postgresContracts(
  name: string,
  url: () => Promise<string>,
  suites: PostgresSuites = "all",
): void {
  let admin: postgres.Sql | undefined;
  afterAll(async () => {
    await admin?.end({ timeout: 5 });
  });

  /** A fresh schema with one connection on it; `peer()` opens another, as a second process would. */
  async function openSchema<T>(
    pick: (connection: PostgresStoreConnection) => T,
    clock?: Clock,
  ): Promise<ContractSubject<T>> {
    admin ??= await adminClient();
    const schema = randomSchema();
    const base = await url();
    const open = () => openPostgres(base, { schema, max: 4, clock });
    const connections = [await open()];
    return {
      subject: pick(connections[0]),
      peer: async () => {
        const other = await open();
        connections.push(other);
        return pick(other);
      },
      cleanup: async () => {
        await Promise.all(connections.map((c) => c.close()));
        await dropSchema(admin!, schema);
      },
    };
  }
  const factory = <T>(pick: (connection: PostgresStoreConnection) => T): ContractFactory<T> => ({
    create: () => openSchema(pick),
  });

  brokerContract(
    name,
    factory((c) => c.broker()),
  );
  controlBusContract(
    name,
    factory((c) => c.controlBus()),
  );
  if (suites === "broker-and-control") return;
  resultBackendContract(
    name,
    factory((c) => c.resultBackend()),
  );
  scheduleStoreContract(
    name,
    factory((c) => c.scheduleStore()),
  );
  lockStoreContract(
    name,
    factory((c) => c.lockStore()),
  );
  revokeStoreContract(
    name,
    factory((c) => c.revokeStore()),
  );
  rateLimiterContract(
    name,
    factory((c) => c.rateLimiter()),
  );
  concurrencySlotsContract(
    name,
    factory((c) => c.concurrencySlots()),
  );
  minuteCountsContract(
    name,
    factory((c) => c.resultBackend()),
  );
  retentionContract(
    name,
    factory((c) => c),
  );

  // The workflow store takes its time from the suite's fake clock, given to the connection.
  const withClock: WorkflowStoreContractFactory = {
    create: (clock) => openSchema((c) => c.workflowStore(), clock),
  };
  workflowStoreContract(name, withClock);
  workflowFencingContract(name, withClock);
  workflowStoreRaces(name, withClock);
  workflowStoreMatchesMemory(name, withClock);
}
