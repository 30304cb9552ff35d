/**
 * examples/tenant-rate-limit.ts runs as documented: one tenant's reports are spaced by its
 * own 2/s bucket while the other tenant's first report does not wait behind them, and the
 * two mail tasks share the smtp group's 5/s bucket.
 */
import { expect, test } from "bun:test";
import { runExample } from "../fixtures/examples.ts";

test("the tenant rate limit example runs and spaces each tenant's reports apart", async () => {
  const { code, stdout, stderr } = await runExample("tenant-rate-limit.ts");
  expect(stderr).toBe("");
  expect(code).toBe(0);
  const at = new Map<string, number>();
  for (const line of stdout.trim().split("\n")) {
    const m = /^(\d+\.\d) s {2}(.+)$/.exec(line);
    expect(m, line).not.toBeNull();
    at.set(m![2], Number(m![1]));
  }
  expect([...at.keys()].sort()).toEqual([
    "mail.digest",
    "mail.welcome",
    "report acme #1",
    "report acme #2",
    "report acme #3",
    "report acme #4",
    "report globex #1",
    "report globex #2",
  ]);
  const t = (what: string) => at.get(what)!;
  // 2/s per tenant: acme's reports are half a second apart (times are rounded to 0.1 s).
  for (const n of [2, 3, 4]) {
    expect(t(`report acme #${n}`) - t(`report acme #${n - 1}`)).toBeGreaterThanOrEqual(0.35);
  }
  // globex has its own bucket: its first report does not wait behind acme's.
  expect(t("report globex #1")).toBeLessThan(t("report acme #2"));
  // One 5/s bucket for both mail tasks.
  expect(Math.abs(t("mail.digest") - t("mail.welcome"))).toBeGreaterThanOrEqual(0.05);
}, 30_000);
