/**
 * The task timeline and enqueue-once contracts (a broker and a result backend of one store)
 * against every adapter: memory, a SQLite file, Redis under a fresh key prefix and Postgres
 * under a fresh schema.
 */
import { connect } from "../../src/adapters/url.ts";
import { enqueueOnceContract, timelineContract } from "../../src/testing/index.ts";
import { ADAPTERS } from "../e2e/fixtures/adapter-stores.ts";

for (const adapter of ADAPTERS) {
  const stores = (what: string) => ({
    async create() {
      const store = await adapter.open(what);
      const connection = await connect(store.url);
      return {
        subject: { backend: connection.resultBackend(), broker: connection.broker() },
        peer: async () => ({ backend: connection.resultBackend(), broker: connection.broker() }),
        async cleanup() {
          await connection.close();
          await store.cleanup();
        },
      };
    },
  });
  timelineContract(adapter.name, stores("timeline"));
  enqueueOnceContract(adapter.name, stores("once"));
}
