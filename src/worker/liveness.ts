/**
 * When a worker counts as alive. A worker writes a heartbeat every interval (and soon
 * after its in-flight count changes) and removes it when it stops. A heartbeat older than
 * three intervals means the worker is gone without stopping (killed, host lost): it is
 * `lost`, kept for an hour so operators can see it, then forgotten.
 */
import type { WorkerHeartbeat } from "../adapters/contracts.ts";

/** The default heartbeat interval. */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 10_000;
/** How long a lost worker's last heartbeat stays listed. */
export const LOST_WORKER_RETENTION_MS = 60 * 60_000;

/** A heartbeat's time to live: three intervals alive, then the retention as `lost`. */
export function heartbeatTtl(intervalMs: number): number {
  return 3 * intervalMs + LOST_WORKER_RETENTION_MS;
}

/** The interval the worker announced in its heartbeat. */
export function heartbeatIntervalOf(heartbeat: WorkerHeartbeat): number {
  const ms = heartbeat.extras?.heartbeatIntervalMs;
  return typeof ms === "number" && ms > 0 ? ms : DEFAULT_HEARTBEAT_INTERVAL_MS;
}

/** True when the worker missed three heartbeats: it stopped without saying so. */
export function isLost(heartbeat: WorkerHeartbeat, now: number): boolean {
  return now - heartbeat.timestamp > 3 * heartbeatIntervalOf(heartbeat);
}
