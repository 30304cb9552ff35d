/**
 * `--help` text: citty's usage with the full command path (`stem dlq retry`), a command's
 * examples at the end, and no colours unless stdout is a terminal that wants them.
 */
import { type CommandDef, renderUsage } from "citty";
import { stripAnsi, useEscapes } from "./terminal.ts";

// biome-ignore lint/suspicious/noExplicitAny: citty's command types are generic per command
type AnyCommand = CommandDef<any>;

const examplesOf = new WeakMap<object, string[]>();

/** Adds examples (full command lines) to the end of a command's help. */
export function withExamples<T extends object>(command: T, examples: string[]): T {
  examplesOf.set(command, examples);
  return command;
}

async function resolved<T>(value: T | (() => T | Promise<T>) | Promise<T>): Promise<T> {
  return typeof value === "function" ? await (value as () => T | Promise<T>)() : await value;
}

/** A subcommand by name or by one of its aliases. */
export async function findSubCommand(
  command: AnyCommand,
  name: string,
): Promise<AnyCommand | undefined> {
  const subs = (await resolved(command.subCommands)) as Record<string, AnyCommand> | undefined;
  if (!subs) return undefined;
  if (Object.hasOwn(subs, name)) return resolved(subs[name]);
  for (const sub of Object.values(subs)) {
    const command = await resolved(sub);
    const meta = await resolved(command.meta);
    const aliases = meta?.alias === undefined ? [] : [meta.alias].flat();
    if (aliases.includes(name)) return command;
  }
  return undefined;
}

/** The help of the command `rawArgs` names (walking down subcommands and aliases). */
export async function renderHelp(root: AnyCommand, rawArgs: string[]): Promise<string> {
  let command = root;
  const path = [(await resolved(root.meta))?.name ?? "stem"];
  for (const arg of rawArgs) {
    if (arg.startsWith("-")) continue;
    const sub = await findSubCommand(command, arg);
    if (!sub) break;
    command = sub;
    path.push((await resolved(sub.meta))?.name ?? arg);
  }
  const version = (await resolved(root.meta))?.version;
  // citty names a command "<parent> <name>": the parent's name carries the whole path.
  const parent =
    path.length > 1 ? { meta: { name: path.slice(0, -1).join(" "), version } } : undefined;
  let text = await renderUsage(command, parent as AnyCommand | undefined);
  // citty colours its usage whenever it thinks colours are wanted (CI=true is enough).
  if (!useEscapes(process.stdout)) text = stripAnsi(text);
  const examples = examplesOf.get(command);
  if (examples?.length) text += `\n\nEXAMPLES\n\n${examples.map((e) => `  ${e}`).join("\n")}`;
  // citty pads every line to the widest (a colour code may end the line).
  text = text.replace(/[ \t]+((?:\x1b\[[\d;]*m)*)$/gm, "$1");
  // citty shows every alias with one dash; a word-long alias is a long option (--timezone).
  text = text.replace(
    /(^|[ ,]|\x1b\[[\d;]*m)-([a-z][a-z-]+)(?=(?:\x1b\[[\d;]*m)*, --)/gm,
    "$1--$2",
  );
  return `${text}\n`;
}
