/**
 * `stem beat`: runs the scheduler until SIGINT/SIGTERM. Entries come from the schedule
 * store (put there with `stem schedule apply`), or from schedule files with
 * `--schedules FILE|DIR` (reloaded when they change); run state is kept in the schedule
 * store either way, so a restarted Beat resumes where it stopped.
 */
import { defineCommand } from "citty";
import { withExamples } from "./output/help.ts";
import { redactUrl } from "../src/adapters/url.ts";
import { parseDuration } from "../src/core/duration.ts";
import { logger } from "../src/core/logger.ts";
import { Beat } from "../src/scheduler/beat.ts";
import { FileScheduleStore } from "../src/scheduler/file-store.ts";
import { startupSignals } from "./startup-signals.ts";
import { schedulePaths, schedulesArg, scheduleStoreUrl } from "./schedule.ts";
import { openClient, storeArgs, UsageError } from "./shared.ts";
import { keepServingOnUnhandledRejection } from "./rejections.ts";

export const beatCommand = defineCommand({
  meta: {
    name: "beat",
    description:
      "Run Beat: enqueue schedule entries when they are due (several Beats may share one store)",
  },
  args: {
    ...storeArgs,
    ...schedulesArg,
    "lock-ttl": {
      type: "string",
      default: "10s",
      description: "Per-entry lock time to live (renewed while dispatching)",
    },
    "missed-run-grace": {
      type: "string",
      description:
        "Entries overdue by more than this fire once for their latest missed run (default: twice --lock-ttl)",
    },
    "max-batch": {
      type: "string",
      default: "1000",
      description: "Most entries dispatched in one batch",
    },
    "beat-id": {
      type: "string",
      description: "This Beat's lock owner id (default beat-HOST-PID-RANDOM)",
    },
  },
  run: async ({ args, rawArgs }) => {
    const lockTtl = parseDuration(args["lock-ttl"], "--lock-ttl");
    const grace =
      args["missed-run-grace"] === undefined
        ? undefined
        : parseDuration(args["missed-run-grace"], "--missed-run-grace");
    const maxBatch = Number(args["max-batch"]);
    if (!Number.isInteger(maxBatch) || maxBatch < 1) {
      throw new UsageError(`--max-batch must be a positive integer, got "${args["max-batch"]}"`);
    }
    const paths = schedulePaths(rawArgs);
    keepServingOnUnhandledRejection("beat");
    const client = await openClient(args, [], "write");
    try {
      const url = scheduleStoreUrl(args);
      const state = (await client.connection(url)).scheduleStore();
      let store = state;
      let source = `the schedule store ${redactUrl(url)}`;
      if (paths.length > 0) {
        const files = new FileScheduleStore({ paths, state });
        const items = await files.load();
        store = files;
        source = `${items.length} entries from ${paths.join(", ")} (state in ${redactUrl(url)})`;
      }
      const beat = new Beat({
        scheduleStore: store,
        lockStore: client.lockStore,
        stem: client.stem,
        lockTtl,
        missedRunGrace: grace,
        maxBatch,
        id: args["beat-id"],
      });
      // A signal during the start stops Beat cleanly once it is started (startup-signals.ts).
      startupSignals.defer();
      await beat.start();
      logger.info(`beat ready: ${source}`);
      const early = startupSignals.release();
      if (early) logger.info(`${early} received while starting`);
      else await untilSignalled();
      logger.info("beat stopping");
      await beat.stop();
    } finally {
      await client.close();
    }
  },
});

/** Resolves on the first SIGINT or SIGTERM; a second one exits at once. */
function untilSignalled(): Promise<void> {
  return new Promise((resolve) => {
    const first = () => {
      process.off("SIGINT", first);
      process.off("SIGTERM", first);
      const force = () => {
        logger.warn("second signal: exiting now");
        process.exit(130);
      };
      process.once("SIGINT", force);
      process.once("SIGTERM", force);
      resolve();
    };
    process.on("SIGINT", first);
    process.on("SIGTERM", first);
  });
}

withExamples(beatCommand, ["stem beat", "stem beat --schedules schedules/ --lock-ttl 30s"]);
