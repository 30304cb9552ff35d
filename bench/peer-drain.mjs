/**
 * Drain timing for the Node peers' benchmark workers (graphile-worker, pg-boss), whose
 * completions are written after the handler returns (in batches, or without being
 * awaited). A drain therefore ends when the database says the jobs are finished, not
 * when the last handler returned: the clock runs from the first handler start until
 * `completed()` reports every job, or until the time cap (then the jobs completed by
 * then count). Stem's drain worker stops its clock after the last result write and
 * ack, which is the same point.
 */
import postgres from "postgres";

/** Pause between completion checks once every handler has run. */
const CHECK_MS = 2;

/**
 * Tracks one drain. Call `started()` at the start of every handler; `result()` resolves
 * with {ms, done, capped} once all `expected` jobs completed or `capMs` passed.
 */
export function drainTimer(url, expected, capMs, completedSql) {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  let first = 0;
  let handled = 0;
  let allHandled;
  const handledAll = new Promise((resolve) => (allHandled = resolve));
  let firstStart;
  const firstStarted = new Promise((resolve) => (firstStart = resolve));
  const completed = async () => Number((await completedSql(sql))[0].n);

  return {
    started() {
      if (first === 0) {
        first = performance.now();
        firstStart();
      }
      if (++handled === expected) allHandled();
    },
    async result() {
      await firstStarted;
      let timer;
      const capped = await Promise.race([
        handledAll.then(() => false),
        new Promise(
          (resolve) =>
            (timer = setTimeout(
              () => resolve(true),
              Math.max(0, first + capMs - performance.now()),
            )),
        ),
      ]);
      clearTimeout(timer);
      let done = await completed();
      while (!capped && done < expected) {
        await new Promise((resolve) => setTimeout(resolve, CHECK_MS));
        done = await completed();
      }
      const ms = performance.now() - first;
      await sql.end({ timeout: 1 });
      return { ms, done, capped };
    },
  };
}
