/**
 * `npm run release [-- --targets linux-x64,linux-arm64] [--out dist/release]`: compiles
 * `stem` for every released platform (the target runtimes come from the npm registry) into
 * dist/release as `stem-<version>-<platform>[.exe]`, with SHA256SUMS in the format
 * `sha256sum -c` checks. The version is package.json's.
 */
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { parseArgs } from "node:util";
import pkg from "./package.json" with { type: "json" };
import { compileStem, RELEASE_TARGETS, type ReleaseTarget } from "./build.ts";

function parseTargets(list: string | undefined): ReleaseTarget[] {
  if (list === undefined) return RELEASE_TARGETS;
  return list.split(",").map((name) => {
    if (!RELEASE_TARGETS.includes(name as ReleaseTarget)) {
      throw new Error(`unknown target "${name}" (targets: ${RELEASE_TARGETS.join(", ")})`);
    }
    return name as ReleaseTarget;
  });
}

/** Builds the binaries and their checksum file; returns the binaries' paths. */
export async function release(targets: ReleaseTarget[], out: string): Promise<string[]> {
  const built: string[] = [];
  for (const target of targets) {
    const file = join(
      out,
      `stem-${pkg.version}-${target}${target.startsWith("windows") ? ".exe" : ""}`,
    );
    await compileStem(file, target);
    built.push(file);
    console.log(`built ${file}`);
  }
  const sums = built.map(
    (file) =>
      `${createHash("sha256").update(readFileSync(file)).digest("hex")}  ${basename(file)}\n`,
  );
  writeFileSync(join(out, "SHA256SUMS"), sums.join(""));
  return built;
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: { targets: { type: "string" }, out: { type: "string", default: "dist/release" } },
  });
  await release(parseTargets(values.targets), values.out as string);
  console.log(`checksums in ${join(values.out as string, "SHA256SUMS")}`);
}
