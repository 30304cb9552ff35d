import type { ConnectOptions, StoreConnection } from "../contracts.ts";
import { StemError } from "../../core/errors.ts";

/** Placeholder until the postgres adapter lands: refuses clearly instead of failing obscurely. */
export async function openPostgres(url: string, _options: ConnectOptions = {}): Promise<StoreConnection> {
  throw new StemError("unsupported_url", `the postgres adapter is not available yet (${url})`);
}
