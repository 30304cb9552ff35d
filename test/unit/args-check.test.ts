import { describe, expect, test } from "bun:test";
import { defineCommand } from "citty";
import { checkCommandLine, editDistance, nearest } from "../../commands/args-check.ts";

const send = defineCommand({
  meta: { name: "send" },
  args: {
    name: { type: "positional", required: true },
    queue: { type: "string", alias: "q" },
    "max-retries": { type: "string" },
    yes: { type: "boolean", alias: ["y"] },
  },
  run: () => {},
});
const root = defineCommand({
  meta: { name: "app" },
  subCommands: {
    send,
    list: defineCommand({ meta: { name: "list", alias: "ls" }, run: () => {} }),
  },
});

describe("command line check", () => {
  test("typos are near, swaps of neighbours count once", () => {
    expect(editDistance("qeueu", "queue")).toBe(2);
    expect(editDistance("wokrer", "worker")).toBe(1);
    expect(nearest("qeueu", ["queue", "quiet", "json"])).toBe("queue");
    expect(nearest("conc", ["concurrency", "json"])).toBe("concurrency");
    expect(nearest("frobnicate", ["queue", "json"])).toBeUndefined();
  });

  test("declared names, their kebab and camel spellings and aliases are accepted", async () => {
    for (const line of [
      ["send", "x", "--queue", "a"],
      ["send", "x", "-q", "a"],
      ["send", "x", "-qa"],
      ["send", "x", "--queue=a", "--maxRetries", "2", "--max-retries=3"],
      ["send", "x", "-y", "--no-yes", "--yes=false"],
      ["send", "--", "-x"],
      ["ls"],
    ]) {
      await expect(checkCommandLine(root, line)).resolves.toBeDefined();
    }
  });

  test("anything else is a usage error naming it", async () => {
    await expect(checkCommandLine(root, ["send", "x", "--qeueu", "a"])).rejects.toThrow(
      "unknown option --qeueu; did you mean --queue?",
    );
    await expect(checkCommandLine(root, ["send", "x", "-z"])).rejects.toThrow("unknown option -z");
    await expect(checkCommandLine(root, ["send", "x", "--no-queue"])).rejects.toThrow(
      "unknown option --no-queue",
    );
    await expect(checkCommandLine(root, ["sned"])).rejects.toThrow("did you mean send?");
    await expect(checkCommandLine(root, ["send", "x", "y"])).rejects.toThrow(
      'unexpected argument "y" for app send',
    );
    await expect(checkCommandLine(root, [])).rejects.toThrow("app needs a command: send, list, ls");
    await expect(checkCommandLine(root, ["send", "x", "-q"])).rejects.toThrow("-q needs a value");
  });
});
