/**
 * Lua scripts as named values. Each script lives in its own module under `lua/`, named
 * after the operation and its key count; `registerScripts` makes them callable on a
 * client (and its pipelines) through EVALSHA with automatic loading.
 */
import type { ChainableCommander } from "ioredis";
import { isCluster, type RedisClient } from "./client.ts";

/** One atomic operation on the server. */
export interface LuaScript {
  /** Command name the script is registered under. */
  readonly name: string;
  /** Fixed key count, or `"variable"` when the caller passes a multiple of a per-item count. */
  readonly keys: number | "variable";
  readonly source: string;
}

export type ScriptArg = string | number;

/** Declares a script; `source` is the Lua body. */
export function luaScript(name: string, keys: number | "variable", source: string): LuaScript {
  return { name, keys, source };
}

/** Registers scripts on a client so `runScript` and `queueScript` can call them. */
export function registerScripts(client: RedisClient, scripts: readonly LuaScript[]): void {
  for (const script of scripts) {
    client.defineCommand(script.name, {
      lua: script.source,
      numberOfKeys: typeof script.keys === "number" ? script.keys : undefined,
    });
  }
}

function commandArgs(script: LuaScript, keys: string[], args: ScriptArg[]): ScriptArg[] {
  if (typeof script.keys === "number") {
    if (keys.length !== script.keys) {
      throw new Error(`script ${script.name} takes ${script.keys} keys, got ${keys.length}`);
    }
    return [...keys, ...args];
  }
  return [keys.length, ...keys, ...args];
}

type ScriptMethod<R> = (...args: ScriptArg[]) => R;

function method<R>(target: object, script: LuaScript): ScriptMethod<R> {
  const fn = (target as Record<string, unknown>)[script.name];
  if (typeof fn !== "function") throw new Error(`script ${script.name} is not registered`);
  return (fn as ScriptMethod<R>).bind(target);
}

/** Runs a registered script and returns its reply. */
export function runScript<T>(
  client: RedisClient,
  script: LuaScript,
  keys: string[],
  args: ScriptArg[] = [],
): Promise<T> {
  return method<Promise<T>>(client, script)(...commandArgs(script, keys, args));
}

/** Adds a registered script call to a pipeline or transaction. */
export function queueScript(
  pipeline: ChainableCommander,
  script: LuaScript,
  keys: string[],
  args: ScriptArg[] = [],
): ChainableCommander {
  return method<ChainableCommander>(pipeline, script)(...commandArgs(script, keys, args));
}

/** Runs a pipeline and returns its replies, throwing the first command error. */
export async function execPipeline(pipeline: ChainableCommander): Promise<unknown[]> {
  const replies = await pipeline.exec();
  if (!replies) throw new Error("redis transaction aborted");
  return replies.map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}

/** One script call: which script, its keys and its arguments. */
export interface ScriptCall {
  script: LuaScript;
  keys: string[];
  args: ScriptArg[];
}

/**
 * Runs script calls and returns their replies, throwing the first error: a single call
 * goes as a plain command (a pipeline costs more to build than the call itself), several
 * go as one pipeline, in order. On a cluster the calls' keys live on different nodes, so
 * they run concurrently, in no particular order.
 */
export async function runScripts(client: RedisClient, calls: ScriptCall[]): Promise<unknown[]> {
  if (calls.length === 0) return [];
  if (calls.length === 1)
    return [await runScript(client, calls[0].script, calls[0].keys, calls[0].args)];
  if (isCluster(client)) {
    return Promise.all(calls.map((call) => runScript(client, call.script, call.keys, call.args)));
  }
  const pipeline = client.pipeline();
  for (const call of calls) queueScript(pipeline, call.script, call.keys, call.args);
  return execPipeline(pipeline);
}
