/** Every contract suite against the test PostgreSQL (postgres://postgres@127.0.0.1:5432/test). */
import { TEST_POSTGRES_URL } from "../e2e/fixtures/postgres-test-db.ts";
import { postgresContracts } from "./postgres-suites.ts";

postgresContracts("postgres", async () => TEST_POSTGRES_URL);
