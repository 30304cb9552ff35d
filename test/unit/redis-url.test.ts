import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openRedis, redisSettings } from "../../src/adapters/redis/index.ts";
import { StemError } from "../../src/core/errors.ts";
import { REDIS_URL } from "../e2e/fixtures/redis-server.ts";

describe("redis URL settings", () => {
  const dir = mkdtempSync(join(tmpdir(), "stem-redis-tls-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("host, port, database, credentials and the default prefix come from the URL", () => {
    const s = redisSettings("redis://app:s%40cret@cache.internal:6380/4");
    expect(s.ioredis).toMatchObject({
      host: "cache.internal",
      port: 6380,
      db: 4,
      username: "app",
      password: "s@cret",
    });
    expect(s.prefix).toBe("stem");
    expect(s.url).toBe("redis://app:***@cache.internal:6380/4");
    expect(s.ioredis.tls).toBeUndefined();
  });

  test("defaults to port 6379 and database 0", () => {
    const s = redisSettings("redis://localhost");
    expect(s.ioredis).toMatchObject({ host: "localhost", port: 6379, db: 0 });
  });

  test("the prefix comes from ?prefix=, and an explicit option wins over it", () => {
    expect(redisSettings("redis://h/1?prefix=billing").prefix).toBe("billing");
    expect(redisSettings("redis://h/1?prefix=billing", { prefix: "ops" }).prefix).toBe("ops");
    expect(redisSettings("redis://h?resultTtlMs=5000").resultTtlMs).toBe(5000);
  });

  test("redis+cluster:// and ?cluster=true name a cluster's startup nodes", () => {
    const s = redisSettings("redis+cluster://app:pw@10.0.0.1:7000,10.0.0.2,[::1]:7002?prefix=jobs");
    expect(s.cluster?.nodes).toEqual([
      { host: "10.0.0.1", port: 7000 },
      { host: "10.0.0.2", port: 6379 },
      { host: "::1", port: 7002 },
    ]);
    expect(s.ioredis).toMatchObject({ username: "app", password: "pw" });
    expect(s.ioredis.host).toBeUndefined();
    expect(s.prefix).toBe("jobs");
    expect(s.url).toBe("redis+cluster://app:***@10.0.0.1:7000,10.0.0.2,[::1]:7002?prefix=jobs");
    expect(s.cluster?.options.clusterRetryStrategy).toBeFunction();
    const query = redisSettings("redis://node.internal:7000?cluster=true");
    expect(query.cluster?.nodes).toEqual([{ host: "node.internal", port: 7000 }]);
    expect(redisSettings("redis://h?cluster=false").cluster).toBeUndefined();
    expect(redisSettings("redis://h").cluster).toBeUndefined();
  });

  test("rediss+cluster:// turns TLS on for every node, without one host name for all", () => {
    const s = redisSettings("rediss+cluster://a.example:7000,b.example:7000", {
      tls: { allowInsecure: true },
    });
    expect(s.ioredis.tls).toMatchObject({ rejectUnauthorized: false });
    expect(s.ioredis.tls?.servername).toBeUndefined();
    expect(s.cluster?.options.dnsLookup).toBeFunction();
    const query = redisSettings("rediss://a.example:7000?cluster=true", {
      tls: { allowInsecure: true },
    });
    expect(query.cluster?.nodes).toEqual([{ host: "a.example", port: 7000 }]);
    expect(query.ioredis.tls).toBeDefined();
  });

  test("reconnects forever with a capped backoff", () => {
    const retry = redisSettings("redis://h").ioredis.retryStrategy!;
    expect(retry(1)).toBe(50);
    expect(retry(10)).toBe(500);
    expect(retry(1000)).toBe(2000);
  });

  test("mistakes are refused with a message naming them", () => {
    const refused = (url: string, pattern: RegExp) => {
      let error: unknown;
      try {
        redisSettings(url);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(StemError);
      expect((error as StemError).code).toBe("invalid_argument");
      expect((error as Error).message).toMatch(pattern);
    };
    refused("redis://h/abc", /database number/);
    refused("redis://h?prefx=a", /unknown query parameter "prefx"/);
    refused("redis://h?prefix=", /prefix/);
    refused("redis://h?resultTtlMs=soon", /resultTtlMs/);
    refused("http://h", /redis:\/\/, rediss:\/\/, redis\+cluster:\/\//);
    refused("redis://a:1,b:2", /redis\+cluster:\/\//);
    refused("redis+cluster://a:1/2", /database 0 only/);
    refused("redis://h?cluster=yes", /cluster must be true or false/);
    refused("redis+cluster://a:1,b:99999", /bad cluster node "b:99999"/);
    refused("redis://:pw@h:99999", /not a URL/);
  });

  test("rediss:// turns TLS on with the configured certificate files", () => {
    const ca = join(dir, "ca.pem");
    const cert = join(dir, "client.pem");
    const key = join(dir, "client.key");
    writeFileSync(ca, "CA PEM");
    writeFileSync(cert, "CERT PEM");
    writeFileSync(key, "KEY PEM");
    const s = redisSettings("rediss://secure.example:6390", {
      tls: { caCertFile: ca, clientCertFile: cert, clientKeyFile: key },
    });
    expect(s.ioredis.tls).toMatchObject({
      ca: "CA PEM",
      cert: "CERT PEM",
      key: "KEY PEM",
      rejectUnauthorized: true,
      servername: "secure.example",
    });
    const insecure = redisSettings("rediss://secure.example", { tls: { allowInsecure: true } });
    expect(insecure.ioredis.tls).toMatchObject({ rejectUnauthorized: false });
  });

  test("a missing certificate file is a clear error", () => {
    expect(() =>
      redisSettings("rediss://h", { tls: { caCertFile: join(dir, "nope.pem") } }),
    ).toThrow(/cannot read TLS CA certificate/);
  });

  test("an unreachable server fails to open with store_unavailable", async () => {
    // Port 1 on loopback: nothing listens there, so the connection is refused at once.
    let error: unknown;
    try {
      await openRedis("redis://127.0.0.1:1");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StemError);
    expect((error as StemError).code).toBe("store_unavailable");
    expect((error as Error).message).toContain("cannot connect to Redis at redis://127.0.0.1:1");
  });

  test("a cluster URL fails to open with store_unavailable when no node answers or the server is no cluster", async () => {
    const failure = async (url: string) => {
      try {
        await openRedis(url);
      } catch (e) {
        return e as StemError;
      }
      throw new Error(`${url} opened`);
    };
    const none = await failure("redis+cluster://127.0.0.1:1,127.0.0.1:2");
    expect(none.code).toBe("store_unavailable");
    expect(none.message).toContain(
      "cannot connect to Redis at redis+cluster://127.0.0.1:1,127.0.0.1:2",
    );
    // The test Redis server is a single server: the node's own error says so.
    const single = await failure(`${REDIS_URL}${REDIS_URL.includes("?") ? "&" : "?"}cluster=true`);
    expect(single.code).toBe("store_unavailable");
    expect(single.message).toContain("cluster support disabled");
  });
});
