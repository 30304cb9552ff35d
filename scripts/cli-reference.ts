/**
 * `npm run docs:cli`: writes docs/cli.md, the reference of every `stem` command, from the
 * command definitions themselves (the text `--help` prints). test/cli/cli-reference.test.ts
 * fails when the committed page differs from what this generates, so it never drifts.
 */
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import type { CommandDef } from "citty";
import { main } from "../commands/cli.ts";
import { renderHelp } from "../commands/output/help.ts";
import { stripAnsi } from "../commands/output/terminal.ts";

// biome-ignore lint/suspicious/noExplicitAny: citty's command types are generic per command
type AnyCommand = CommandDef<any>;

export const CLI_REFERENCE_PATH = resolve(import.meta.dir, "../docs/cli.md");

async function resolved<T>(value: T | (() => T | Promise<T>) | Promise<T>): Promise<T> {
  return typeof value === "function" ? await (value as () => T | Promise<T>)() : await value;
}

/** Every command path below `command`, depth first, in definition order: [[], ["dlq"], ["dlq", "ls"], …]. */
async function commandPaths(command: AnyCommand, path: string[] = []): Promise<string[][]> {
  const paths = [path];
  const subs = (await resolved(command.subCommands)) as Record<string, AnyCommand> | undefined;
  for (const [name, sub] of Object.entries(subs ?? {}))
    paths.push(...(await commandPaths(await resolved(sub), [...path, name])));
  return paths;
}

/** The reference page's Markdown. */
export async function cliReference(): Promise<string> {
  const sections: string[] = [];
  for (const path of await commandPaths(main)) {
    const help = stripAnsi(await renderHelp(main, path)).trimEnd();
    sections.push(`## ${["stem", ...path].join(" ")}\n\n\`\`\`text\n${help}\n\`\`\`\n`);
  }
  return [
    "# `stem` command reference",
    "",
    "Generated from the command definitions by `npm run docs:cli` (the same text `--help`",
    "prints); do not edit by hand.",
    "",
    ...sections,
  ].join("\n");
}

if (import.meta.main) {
  writeFileSync(CLI_REFERENCE_PATH, await cliReference());
  console.log(`wrote ${CLI_REFERENCE_PATH}`);
  process.exit(0);
}
