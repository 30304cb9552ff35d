/**
 * Every contract suite against a real PostgreSQL (postgres://postgres@127.0.0.1:5432/test).
 * Each create() gets its own random schema, dropped afterwards; `peer()` is a second
 * connection on the same schema, as another process would have.
 */
import { afterAll } from "bun:test";
import type postgres from "postgres";
import { openPostgres, type PostgresStoreConnection } from "../../src/adapters/postgres/index.ts";
import {
  brokerContract,
  concurrencySlotsContract,
  type ContractFactory,
  controlBusContract,
  lockStoreContract,
  rateLimiterContract,
  minuteCountsContract,
  resultBackendContract,
  revokeStoreContract,
  scheduleStoreContract,
  workflowFencingContract,
  workflowStoreContract,
  type WorkflowStoreContractFactory,
} from "../../src/testing/index.ts";
import {
  adminClient,
  dropSchema,
  openTestConnection,
  randomSchema,
  TEST_POSTGRES_URL,
} from "../e2e/fixtures/postgres-test-db.ts";
import { workflowStoreMatchesMemory, workflowStoreRaces } from "./workflow-store-checks.ts";

let admin: postgres.Sql | undefined;
afterAll(async () => {
  await admin?.end({ timeout: 5 });
});

function postgresFactory<T>(pick: (connection: PostgresStoreConnection) => T): ContractFactory<T> {
  return {
    async create() {
      admin ??= await adminClient();
      const schema = randomSchema();
      const connections = [await openTestConnection(schema)];
      return {
        subject: pick(connections[0]),
        peer: async () => {
          const other = await openTestConnection(schema);
          connections.push(other);
          return pick(other);
        },
        cleanup: async () => {
          await Promise.all(connections.map((c) => c.close()));
          await dropSchema(admin!, schema);
        },
      };
    },
  };
}

brokerContract(
  "postgres",
  postgresFactory((c) => c.broker()),
);
resultBackendContract(
  "postgres",
  postgresFactory((c) => c.resultBackend()),
);
minuteCountsContract(
  "postgres",
  postgresFactory((c) => c.resultBackend()),
);
scheduleStoreContract(
  "postgres",
  postgresFactory((c) => c.scheduleStore()),
);
lockStoreContract(
  "postgres",
  postgresFactory((c) => c.lockStore()),
);
revokeStoreContract(
  "postgres",
  postgresFactory((c) => c.revokeStore()),
);
rateLimiterContract(
  "postgres",
  postgresFactory((c) => c.rateLimiter()),
);
concurrencySlotsContract(
  "postgres",
  postgresFactory((c) => c.concurrencySlots()),
);
controlBusContract(
  "postgres",
  postgresFactory((c) => c.controlBus()),
);

// The workflow store takes its time from the suite's fake clock, given to the connection.
const postgresWithClock: WorkflowStoreContractFactory = {
  async create(clock) {
    admin ??= await adminClient();
    const schema = randomSchema();
    const open = () => openPostgres(TEST_POSTGRES_URL, { schema, max: 4, clock });
    const connections = [await open()];
    return {
      subject: connections[0].workflowStore(),
      peer: async () => {
        const other = await open();
        connections.push(other);
        return other.workflowStore();
      },
      cleanup: async () => {
        await Promise.all(connections.map((c) => c.close()));
        await dropSchema(admin!, schema);
      },
    };
  },
};

workflowStoreContract("postgres", postgresWithClock);
workflowFencingContract("postgres", postgresWithClock);
workflowStoreRaces("postgres", postgresWithClock);
workflowStoreMatchesMemory("postgres", postgresWithClock);
