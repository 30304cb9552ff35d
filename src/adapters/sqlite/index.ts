import type { ConnectOptions, StoreConnection } from "../contracts.ts";
import { StemError } from "../../core/errors.ts";

/** Placeholder until the sqlite adapter lands: refuses clearly instead of failing obscurely. */
export async function openSqlite(url: string, _options: ConnectOptions = {}): Promise<StoreConnection> {
  throw new StemError("unsupported_url", `the sqlite adapter is not available yet (${url})`);
}
