#!/usr/bin/env bun
/**
 * The `stem` executable: workers, and operator commands over the configured stores.
 */
// First: SIGINT/SIGTERM are handled from the very start of the process.
import "./startup-signals.ts";
import { defineCommand, runCommand } from "citty";
import pkg from "../package.json" with { type: "json" };
import { registerStemModule } from "../src/app/stem-module.ts";
import { StemError, type StemErrorCode } from "../src/core/errors.ts";
import { checkLogLevelEnv } from "../src/core/logger.ts";
import { checkCommandLine } from "./args-check.ts";
import { renderHelp, withExamples } from "./output/help.ts";
import { showWide, stripAnsi } from "./output/terminal.ts";
import { missingStoreHint } from "./store-access.ts";
import { versionLine } from "./version.ts";

export const main = defineCommand({
  meta: {
    name: "stem",
    version: pkg.version,
    description: "Background jobs for TypeScript: workers, queues and operator tools",
  },
  // Each command is loaded when it is run (or its help is shown): `stem --version` and
  // `stem enqueue` do not pay for the worker's, the dashboard's or the adapters' code.
  subCommands: {
    worker: () => import("./worker.ts").then((m) => m.workerCommand),
    wf: () => import("./wf.ts").then((m) => m.wfCommand),
    enqueue: () => import("./enqueue.ts").then((m) => m.enqueueCommand),
    result: () => import("./result.ts").then((m) => m.resultCommand),
    tasks: () => import("./tasks.ts").then((m) => m.tasksCommand),
    health: () => import("./health.ts").then((m) => m.healthCommand),
    dlq: () => import("./dlq.ts").then((m) => m.dlqCommand),
    observe: () => import("./observe.ts").then((m) => m.observeCommand),
    keys: () => import("./keys.ts").then((m) => m.keysCommand),
    beat: () => import("./beat.ts").then((m) => m.beatCommand),
    schedule: () => import("./schedule.ts").then((m) => m.scheduleCommand),
    dashboard: () => import("./dashboard.ts").then((m) => m.dashboardCommand),
  },
});

withExamples(main, [
  "stem worker --tasks ./tasks.ts",
  `stem enqueue email.send --args '{"to":"a@b.c"}' --wait`,
]);

/** Codes that mean "you called it wrong" (exit 2) rather than "it failed" (exit 1). */
const USAGE_CODES = new Set<StemErrorCode>([
  "invalid_argument",
  "unknown_task",
  "duplicate_task",
  "invalid_task_options",
  "unsupported_url",
]);

function exitCodeFor(error: unknown): number {
  if (error instanceof StemError) return USAGE_CODES.has(error.code) ? 2 : 1;
  const code = (error as { code?: unknown })?.code;
  // citty's own parse errors (unknown command, missing argument) carry E* codes.
  if ((error as Error)?.name === "CLIError" || (typeof code === "string" && code.startsWith("E")))
    return 2;
  return 1;
}

/** `stem … | head` closes stdout early: that ends the command quietly, not with a stack trace. */
function exitQuietlyOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
      throw error;
    });
  }
}

export async function run(rawArgs: string[]): Promise<void> {
  registerStemModule();
  exitQuietlyOnClosedPipe();
  const verbose = rawArgs.includes("--verbose");
  if (rawArgs.includes("--wide")) showWide();
  try {
    checkLogLevelEnv();
    // `stem help [CMD ...]` and `stem version` are the words for --help and --version.
    if (rawArgs[0] === "help") rawArgs = [...rawArgs.slice(1), "--help"];
    if (rawArgs.includes("--help") || rawArgs.includes("-h") || rawArgs.length === 0) {
      await checkCommandLine(main, rawArgs, { flags: false });
      process.stdout.write(await renderHelp(main, rawArgs));
      return;
    }
    if (rawArgs.length === 1 && ["--version", "-v", "version"].includes(rawArgs[0])) {
      process.stdout.write(`${versionLine()}\n`);
      return;
    }
    await checkCommandLine(main, rawArgs);
    await runCommand(main, { rawArgs });
  } catch (error) {
    const code = exitCodeFor(error);
    // citty colours words in its messages; an error line is plain text everywhere.
    process.stderr.write(`stem: ${stripAnsi((error as Error)?.message ?? String(error))}\n`);
    const hint = missingStoreHint(error);
    if (hint) process.stderr.write(`${hint}\n`);
    if (code === 2 && !(error instanceof StemError))
      process.stderr.write("run with --help for usage\n");
    if (verbose && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
    process.exitCode = code;
  }
}

if (import.meta.main) {
  await run(process.argv.slice(2));
  // Stores may hold sockets or timers open; a finished command exits.
  process.exit(process.exitCode ?? 0);
}
