import { describe, expect, test } from "bun:test";
import { captureLogs } from "../fixtures/capture-logs.ts";
import { OutageLog, isConnectionError, log } from "../../src/adapters/postgres/database.ts";

describe("Postgres outage reporting", () => {
  const captured = captureLogs(log);

  test("an outage is logged once as a warning, and its end once", () => {
    const outage = new OutageLog("postgres://db/x");
    const refused = Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
    for (let i = 0; i < 5; i++) outage.failed("fetch", refused);
    expect(outage.isDown).toBe(true);
    outage.recovered();
    outage.recovered();
    outage.failed("ack", refused);
    const kinds = captured.records.map((r) => r.type);
    expect(kinds).toEqual(["warn", "info", "warn"]);
    expect(String(captured.records[0].args[0])).toContain("postgres://db/x");
    expect(String(captured.records[0].args[0])).toContain("ECONNREFUSED");
  });

  test("connection failures are told apart from query errors", () => {
    expect(isConnectionError({ code: "ECONNREFUSED" })).toBe(true);
    expect(isConnectionError({ code: "CONNECTION_CLOSED" })).toBe(true);
    expect(isConnectionError({ code: "57P01" })).toBe(true);
    expect(isConnectionError({ code: "08006" })).toBe(true);
    expect(isConnectionError({ code: "23505" })).toBe(false);
    expect(isConnectionError({ code: "CONNECTION_ENDED" })).toBe(false);
    expect(isConnectionError(new Error("plain"))).toBe(false);
  });
});
