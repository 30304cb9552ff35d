/**
 * TLS settings shared by the Redis (`rediss://`) and Postgres (`sslmode=...`) adapters,
 * from code or from STEM_TLS_CA_CERT, STEM_TLS_CLIENT_CERT, STEM_TLS_CLIENT_KEY and
 * STEM_TLS_ALLOW_INSECURE.
 */
import { readFileSync } from "node:fs";
import type { TlsOptions } from "../adapters/contracts.ts";
import { StemError } from "../core/errors.ts";

/** TLS options from the environment; empty when none are set. */
export function tlsOptionsFromEnv(
  env: Record<string, string | undefined> = process.env,
): TlsOptions {
  const flag = env.STEM_TLS_ALLOW_INSECURE?.toLowerCase();
  return {
    caCertFile: env.STEM_TLS_CA_CERT || undefined,
    clientCertFile: env.STEM_TLS_CLIENT_CERT || undefined,
    clientKeyFile: env.STEM_TLS_CLIENT_KEY || undefined,
    allowInsecure: flag === "1" || flag === "true" ? true : undefined,
  };
}

/** Node-style TLS connection options (ca, cert, key, rejectUnauthorized) with files read. */
export interface LoadedTls {
  ca?: string;
  cert?: string;
  key?: string;
  rejectUnauthorized: boolean;
}

function readPem(file: string, what: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    throw new StemError(
      "invalid_argument",
      `cannot read TLS ${what} "${file}": ${(error as Error).message}`,
    );
  }
}

/** Reads the certificate files named in `options` (falling back to the environment). */
export function loadTls(options: TlsOptions = tlsOptionsFromEnv()): LoadedTls {
  return {
    ca: options.caCertFile ? readPem(options.caCertFile, "CA certificate") : undefined,
    cert: options.clientCertFile
      ? readPem(options.clientCertFile, "client certificate")
      : undefined,
    key: options.clientKeyFile ? readPem(options.clientKeyFile, "client key") : undefined,
    rejectUnauthorized: !options.allowInsecure,
  };
}
