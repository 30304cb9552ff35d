/**
 * Postgres migrations from version 15 on (migrations.ts holds 1–14 and applies these
 * after them). `{schema}` in the SQL is replaced by the quoted schema name.
 */

import type { Migration } from "./migrations.ts";

export const MIGRATIONS_FROM_15: Migration[] = [
  {
    version: 15,
    name: "delayed counts",
    // Counting delayed jobs on their index visited one heap page per job until the table
    // was vacuumed (382 ms for 10,000 delayed among 1,000,000 jobs). Delays are logged
    // instead, in a small dense table read by the queue stats.
    sql: `
-- Jobs due later, per queue and due time: every statement that inserts, deletes or
-- re-times jobs appends +n/-n for those due after now(). Only rows due after now()
-- count, and a due time never comes back, so rows whose time has passed are dead
-- weight (the sweeper deletes them) and changes to jobs already due are not logged.
-- Appending never waits on another transaction.
CREATE TABLE {schema}.queue_delay_deltas (
  queue text NOT NULL,
  not_before timestamptz NOT NULL,
  delta bigint NOT NULL
);
CREATE INDEX queue_delay_deltas_idx ON {schema}.queue_delay_deltas (queue, not_before);

CREATE FUNCTION {schema}.jobs_delays_counted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO {schema}.queue_delay_deltas (queue, not_before, delta)
    SELECT queue, not_before, CASE WHEN TG_OP = 'INSERT' THEN count(*) ELSE -count(*) END
    FROM changed WHERE not_before > now() GROUP BY queue, not_before;
  RETURN NULL;
END
$$;
CREATE TRIGGER jobs_delays_insert AFTER INSERT ON {schema}.jobs
  REFERENCING NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION {schema}.jobs_delays_counted();
CREATE TRIGGER jobs_delays_delete AFTER DELETE ON {schema}.jobs
  REFERENCING OLD TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION {schema}.jobs_delays_counted();

-- A job released with a delay (a retry, a rate limit) or moved: row by row, and only for
-- statements that set those columns (claims and lease extensions do not).
CREATE FUNCTION {schema}.jobs_delay_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.not_before > now() THEN
    INSERT INTO {schema}.queue_delay_deltas VALUES (OLD.queue, OLD.not_before, -1);
  END IF;
  IF NEW.not_before > now() THEN
    INSERT INTO {schema}.queue_delay_deltas VALUES (NEW.queue, NEW.not_before, 1);
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER jobs_delay_changed AFTER UPDATE OF not_before, queue ON {schema}.jobs
  FOR EACH ROW
  WHEN (OLD.not_before IS DISTINCT FROM NEW.not_before OR OLD.queue IS DISTINCT FROM NEW.queue)
  EXECUTE FUNCTION {schema}.jobs_delay_changed();

-- Jobs already delayed: logged with writers held off, so none is missed or counted twice.
LOCK TABLE {schema}.jobs IN SHARE MODE;
INSERT INTO {schema}.queue_delay_deltas (queue, not_before, delta)
  SELECT queue, not_before, count(*) FROM {schema}.jobs
  WHERE not_before > now() GROUP BY queue, not_before;
`,
  },
];
