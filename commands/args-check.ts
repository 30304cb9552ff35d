/**
 * Strict command lines. citty ignores what it does not know (`--qeueu emails` parses as a
 * stray boolean, the value as a stray positional), so before a command runs its line is
 * checked against the citty definitions: every flag must be one the command declares (by
 * name, kebab or camel spelling, or `alias`), every word must be a subcommand or a declared
 * positional. A mistake is a UsageError (exit 2) naming it, with the nearest valid spelling.
 */
import { UsageError } from "./usage-error.ts";

/** citty's command shape, as far as the check reads it. */
// biome-ignore lint/suspicious/noExplicitAny: citty's command types are generic per command
export type AnyCommand = any;

interface ArgDef {
  type?: string;
  alias?: string | string[];
}

/** Flags every command accepts (handled by cli.ts itself). */
const GLOBAL_FLAGS = new Set(["help", "h", "verbose"]);

/** Commands that take any number of positionals (citty keeps the extra ones in `_`). */
const variadic = new WeakSet<object>();

/** Marks a command as taking more positionals than it declares (e.g. several files). */
export function acceptsMorePositionals<T extends object>(command: T): T {
  variadic.add(command);
  return command;
}

async function resolve<T>(value: T | (() => T | Promise<T>)): Promise<T> {
  return typeof value === "function" ? await (value as () => T | Promise<T>)() : value;
}

const toKebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const toCamel = (name: string) => name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());

function aliasesOf(def: ArgDef): string[] {
  return Array.isArray(def.alias) ? def.alias : def.alias ? [def.alias] : [];
}

/** Every spelling a command's flags accept, each mapped to its definition. */
function flagTable(argsDef: Record<string, ArgDef>): Map<string, ArgDef> {
  const table = new Map<string, ArgDef>();
  for (const [name, def] of Object.entries(argsDef)) {
    if (def.type === "positional") continue;
    for (const spelling of [name, toKebab(name), toCamel(name), ...aliasesOf(def)])
      table.set(spelling, def);
  }
  return table;
}

/** Optimal string alignment distance: edits, counting a swap of neighbours as one. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The candidate closest to `word`, if it is close enough to be a likely typo. */
export function nearest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const distance =
      candidate.startsWith(word) && word.length >= 3 ? 0.5 : editDistance(word, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

/** A subcommand by name or by one of its `meta.alias` names. */
async function findSubCommand(
  subs: Record<string, AnyCommand>,
  name: string,
): Promise<AnyCommand | undefined> {
  if (Object.hasOwn(subs, name)) return resolve(subs[name]);
  for (const sub of Object.values(subs)) {
    const resolved = await resolve(sub);
    const alias = (await resolve(resolved?.meta))?.alias;
    if ((Array.isArray(alias) ? alias : [alias]).includes(name)) return resolved;
  }
  return undefined;
}

async function subCommandNames(subs: Record<string, AnyCommand>): Promise<string[]> {
  const names: string[] = [];
  for (const [name, sub] of Object.entries(subs)) {
    const meta = await resolve((await resolve(sub))?.meta);
    if (meta?.hidden) continue;
    const alias = meta?.alias;
    names.push(name, ...(Array.isArray(alias) ? alias : alias ? [alias] : []));
  }
  return names;
}

function unknownOption(flag: string, spellings: Iterable<string>, usage: string): UsageError {
  const long = [...spellings].filter((s) => s.length > 1);
  const guess = flag.startsWith("--") ? nearest(flag.slice(2), long) : undefined;
  return new UsageError(
    guess
      ? `unknown option ${flag}; did you mean --${guess}?`
      : `unknown option ${flag} (see ${usage} --help)`,
  );
}

/** The command line resolved down to the command that runs it. */
export interface ResolvedCommand {
  command: AnyCommand;
  parent: AnyCommand | undefined;
  /** The words that name it, e.g. `stem dlq list`. */
  usage: string;
}

/**
 * Walks `rawArgs` down the subcommands of `root`, checking each word. With `flags: false`
 * only the subcommand names are checked (for `--help`, which ignores the rest).
 * Throws UsageError for an unknown subcommand, an unknown flag, a flag without its value,
 * an extra positional, or a command group given no command.
 */
export async function checkCommandLine(
  root: AnyCommand,
  rawArgs: string[],
  { flags = true }: { flags?: boolean } = {},
): Promise<ResolvedCommand> {
  let command = root;
  let parent: AnyCommand | undefined;
  let usage = (await resolve(root.meta))?.name ?? "stem";
  let i = 0;
  for (;;) {
    const argsDef = ((await resolve(command.args)) ?? {}) as Record<string, ArgDef>;
    const subs = (await resolve(command.subCommands)) as Record<string, AnyCommand> | undefined;
    const hasSubs = subs !== undefined && Object.keys(subs).length > 0;
    const table = flagTable(argsDef);
    const declared = Object.values(argsDef).filter((d) => d.type === "positional").length;
    const positionals: string[] = [];
    let descended = false;
    for (; i < rawArgs.length; i++) {
      const arg = rawArgs[i];
      if (arg === "--") {
        positionals.push(...rawArgs.slice(i + 1));
        i = rawArgs.length;
        break;
      }
      if (arg.startsWith("--")) {
        const [name, inline] = splitOnce(arg.slice(2), "=");
        if (GLOBAL_FLAGS.has(name) || !flags) continue;
        const def = table.get(name) ?? negated(table, name);
        if (!def) throw unknownOption(`--${name}`, table.keys(), usage);
        if (takesValue(def) && inline === undefined) {
          if (i + 1 >= rawArgs.length) throw new UsageError(`--${name} needs a value`);
          i++;
        }
        continue;
      }
      if (arg.startsWith("-") && arg.length > 1 && Number.isNaN(Number(arg))) {
        if (!flags) continue;
        i = checkShortFlags(arg, rawArgs, i, table, usage);
        continue;
      }
      // A word: the subcommand's name, or a positional argument.
      if (hasSubs && positionals.length === 0) {
        const sub = await findSubCommand(subs, arg);
        if (!sub) {
          const guess = nearest(arg, await subCommandNames(subs));
          throw new UsageError(
            guess
              ? `unknown command "${arg}" for ${usage}; did you mean ${guess}?`
              : `unknown command "${arg}" for ${usage} (commands: ${(await subCommandNames(subs)).join(", ")})`,
          );
        }
        parent = command;
        command = sub;
        usage = `${usage} ${arg}`;
        i++;
        descended = true;
        break;
      }
      positionals.push(arg);
    }
    if (descended) continue;
    if (!flags) return { command, parent, usage };
    if (hasSubs && !command.run) {
      throw new UsageError(
        `${usage} needs a command: ${(await subCommandNames(subs)).join(", ")} (see ${usage} --help)`,
      );
    }
    if (positionals.length > declared && !variadic.has(command)) {
      throw new UsageError(
        `unexpected argument "${positionals[declared]}" for ${usage} (see ${usage} --help)`,
      );
    }
    return { command, parent, usage };
  }
}

function splitOnce(text: string, separator: string): [string, string | undefined] {
  const at = text.indexOf(separator);
  return at === -1 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
}

function takesValue(def: ArgDef): boolean {
  return def.type === "string" || def.type === "enum";
}

/** `--no-json` for a boolean `json`. */
function negated(table: Map<string, ArgDef>, name: string): ArgDef | undefined {
  if (!name.startsWith("no-")) return undefined;
  const def = table.get(name.slice(3));
  return def?.type === "boolean" ? def : undefined;
}

/** Checks `-x`, or grouped `-xy`, or `-qemails`; returns the index of the last word used. */
function checkShortFlags(
  arg: string,
  rawArgs: string[],
  i: number,
  table: Map<string, ArgDef>,
  usage: string,
): number {
  const letters = arg.slice(1);
  for (let j = 0; j < letters.length; j++) {
    const letter = letters[j];
    if (GLOBAL_FLAGS.has(letter)) continue;
    const def = table.get(letter);
    if (!def) throw unknownOption(`-${letter}`, table.keys(), usage);
    if (!takesValue(def)) continue;
    // The rest of the word is the value, else the next word is.
    if (j + 1 < letters.length) return i;
    if (i + 1 >= rawArgs.length) throw new UsageError(`-${letter} needs a value`);
    return i + 1;
  }
  return i;
}
