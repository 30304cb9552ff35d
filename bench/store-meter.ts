/**
 * What a benchmark reads off the store server itself: CPU time used so far and memory
 * held. Redis: INFO of every node (a cluster URL lists them all); Postgres: the CPU time
 * of the server's processes from /proc (the benchmark runs beside a local server) and the
 * size of the phase's schema. Server-wide figures include other clients of the server.
 */
import { readdirSync, readFileSync } from "node:fs";
import Redis from "ioredis";
import postgres from "postgres";

export interface StoreMeter {
  /** CPU seconds the store has used so far, or null when it cannot be read. */
  cpuSeconds(): Promise<number | null>;
  /** Memory the store holds: Redis used_memory (all nodes), Postgres the schema's size, MB. */
  memoryMb(): Promise<number>;
  close(): Promise<void>;
}

const MB = 2 ** 20;

/** `host:port` of every node a Redis URL names (`redis+cluster://a:1,b:2` lists several). */
function redisNodes(url: string): string[] {
  const authority = url.replace(/^[a-z+]+:\/\//, "").split(/[/?]/)[0]!;
  return authority.split(",").map((node) => node.replace(/^.*@/, ""));
}

function infoField(info: string, field: string): number {
  const match = info.match(new RegExp(`^${field}:([0-9.]+)`, "m"));
  if (!match) throw new Error(`Redis INFO has no ${field}`);
  return Number(match[1]);
}

function redisMeter(url: string): StoreMeter {
  const nodes = redisNodes(url).map((node) => {
    const [host, port] = node.split(":");
    return new Redis({ host, port: Number(port ?? 6379), lazyConnect: false });
  });
  const sum = async (section: string, fields: string[]) => {
    let total = 0;
    for (const node of nodes) {
      const info = await node.info(section);
      for (const field of fields) total += infoField(info, field);
    }
    return total;
  };
  return {
    cpuSeconds: () => sum("cpu", ["used_cpu_user", "used_cpu_sys"]),
    memoryMb: async () => Math.round((await sum("memory", ["used_memory"])) / MB),
    async close() {
      for (const node of nodes) node.disconnect();
    },
  };
}

/**
 * CPU seconds of the local Postgres server: every `postgres` process's own time, plus, for
 * the postmaster, the time of the backends that have ended (counted in its children's
 * time once reaped), so connections closing between two readings lose nothing.
 */
function postgresServerCpu(): number {
  const ticks = 100; // USER_HZ on Linux
  const processes = new Map<string, string[]>();
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      if (stat.slice(stat.indexOf("(") + 1, close).startsWith("postgres"))
        processes.set(pid, stat.slice(close + 2).split(" "));
    } catch {
      // the process ended while being read
    }
  }
  let total = 0;
  for (const fields of processes.values()) {
    // fields[1] is the parent pid; 11–14: utime, stime, cutime, cstime
    total += Number(fields[11]) + Number(fields[12]);
    if (!processes.has(fields[1]!)) total += Number(fields[13]) + Number(fields[14]);
  }
  return total / ticks;
}

function postgresMeter(url: string): StoreMeter {
  const parsed = new URL(url);
  const schema = parsed.searchParams.get("schema") ?? "public";
  parsed.search = "";
  const sql = postgres(parsed.toString(), { max: 1, onnotice: () => {} });
  return {
    cpuSeconds: async () => postgresServerCpu(),
    async memoryMb() {
      const [row] = await sql`
        select coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint as bytes
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = ${schema} and c.relkind in ('r', 'm')`;
      return Math.round(Number(row!.bytes) / MB);
    },
    close: () => sql.end({ timeout: 5 }),
  };
}

export async function storeMeter(url: string): Promise<StoreMeter> {
  if (url.startsWith("postgres")) return postgresMeter(url);
  if (url.startsWith("redis") || url.startsWith("rediss")) return redisMeter(url);
  throw new Error(`no store meter for ${url}`);
}
