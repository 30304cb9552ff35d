import {
  adminClient,
  dropSchema,
  randomSchema,
  TEST_POSTGRES_URL,
} from "./fixtures/postgres-test-db.ts";
import { workerProcessScenarios } from "./worker-processes.ts";

workerProcessScenarios("Postgres", async () => {
  const admin = await adminClient();
  const schema = randomSchema("stem_e2e");
  const sep = TEST_POSTGRES_URL.includes("?") ? "&" : "?";
  return {
    url: `${TEST_POSTGRES_URL}${sep}schema=${schema}`,
    cleanup: async () => {
      await dropSchema(admin, schema);
      await admin.end({ timeout: 1 });
    },
  };
});
