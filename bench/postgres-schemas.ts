/**
 * Fresh schemas on one Postgres server for benchmark phases, and their removal: each
 * phase's schema is dropped when the next one is handed out, and `cleanup` drops any left.
 */
import postgres from "postgres";

export interface PostgresSchemas {
  /** Drops the previous schema (if any) and returns a new, unused name. */
  next(): Promise<string>;
  /** Drops every schema handed out that still exists. */
  cleanup(): Promise<void>;
}

export function postgresSchemas(postgresUrl: string, name: string): PostgresSchemas {
  const live: string[] = [];
  let n = 0;
  const drop = async (schemas: string[]) => {
    if (schemas.length === 0) return;
    const sql = postgres(postgresUrl, { max: 1, onnotice: () => {} });
    try {
      for (const schema of schemas) await sql.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    } finally {
      await sql.end({ timeout: 5 });
    }
  };
  return {
    async next() {
      await drop(live.splice(0));
      const schema = `${name}_${process.pid}_${n++}`;
      live.push(schema);
      return schema;
    },
    cleanup: () => drop(live.splice(0)),
  };
}
