/**
 * WorkflowScriptRunner: a script that names keys it lacks is called again with them
 * (their keys in KEYS, their names in ARGV), and one that keeps lacking keys fails with
 * a conflict after a bounded number of calls instead of looping.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import Redis from "ioredis";
import { RedisKeys } from "../../src/adapters/redis/keys.ts";
import { workflowRunLua } from "../../src/adapters/redis/lua/workflow-shared.ts";
import { luaScript, registerScripts } from "../../src/adapters/redis/scripts.ts";
import { WorkflowScriptRunner } from "../../src/adapters/redis/workflow-script-runner.ts";
import { StemError } from "../../src/core/errors.ts";
import { deletePrefix, REDIS_URL, randomPrefix, requireRedis } from "./fixtures/redis-server.ts";

// Counts its calls in KEYS[1]; lacks topic 'news' and run 'r1' until it is given them,
// then returns the keys it got for them.
const needsTopicAndRun = luaScript(
  "stemTestNeedsTopicAndRun",
  "variable",
  `${workflowRunLua(1)}
redis.call('INCR', KEYS[1])
if not WAITING_KEY['news'] or not RUN_KEY['r1'] then return { STALE, { 'r1' }, { 'news' } } end
return { WAITING_KEY['news'], WATCHERS_KEY['news'], RUN_KEY['r1'], ARG[1] }
`,
);

// Always lacks another topic.
const neverSatisfied = luaScript(
  "stemTestNeverSatisfied",
  "variable",
  `${workflowRunLua(1)}
return { STALE, {}, { 'topic-' .. redis.call('INCR', KEYS[1]) } }
`,
);

const prefix = randomPrefix("wf-runner");
const keys = new RedisKeys(prefix);
let client: Redis;
let runner: WorkflowScriptRunner;

beforeAll(async () => {
  await requireRedis();
  client = new Redis(REDIS_URL);
  registerScripts(client, [needsTopicAndRun, neverSatisfied]);
  runner = new WorkflowScriptRunner(client, keys);
});
afterAll(async () => {
  client?.disconnect();
  await deletePrefix(prefix);
});

test("a script that lacks keys is called again with the run and topic keys it named", async () => {
  const counter = `${prefix}:calls-1`;
  const reply = await runner.run(needsTopicAndRun, { keys: [counter], args: ["own-arg"] });
  expect(reply).toEqual([
    keys.workflowWaiting("news"),
    keys.workflowWatchers("news"),
    keys.workflowRun("r1"),
    "own-arg",
  ]);
  expect(await client.get(counter)).toBe("2");
});

test("keys known up front need one call", async () => {
  const counter = `${prefix}:calls-2`;
  await runner.run(needsTopicAndRun, {
    keys: [counter],
    topics: ["news"],
    runIds: ["r1"],
    args: ["x"],
  });
  expect(await client.get(counter)).toBe("1");
});

test("a script that keeps lacking keys fails with a conflict after 10 calls", async () => {
  const counter = `${prefix}:calls-3`;
  const error = await runner.run(neverSatisfied, { keys: [counter], args: [] }).catch((e) => e);
  expect(error).toBeInstanceOf(StemError);
  expect((error as StemError).code).toBe("conflict");
  expect((error as StemError).message).toContain("stemTestNeverSatisfied");
  expect(await client.get(counter)).toBe("10");
});
