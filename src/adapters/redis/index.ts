import type { ConnectOptions, StoreConnection } from "../contracts.ts";
import { StemError } from "../../core/errors.ts";

/** Placeholder until the redis adapter lands: refuses clearly instead of failing obscurely. */
export async function openRedis(url: string, _options: ConnectOptions = {}): Promise<StoreConnection> {
  throw new StemError("unsupported_url", `the redis adapter is not available yet (${url})`);
}
