/**
 * What `stem --version` prints: the package version, then the commit and platform the
 * binary was built from (build.ts defines STEM_COMMIT and STEM_TARGET), so a bug report
 * names exactly which binary it is about. The version comes first, alone, for scripts.
 */
import pkg from "../package.json" with { type: "json" };

declare const STEM_COMMIT: string | undefined;
declare const STEM_TARGET: string | undefined;

export function versionLine(): string {
  const platform =
    typeof STEM_TARGET === "string" ? STEM_TARGET : `${process.platform}-${process.arch}`;
  const commit = typeof STEM_COMMIT === "string" ? `commit ${STEM_COMMIT}` : "run from source";
  return `${pkg.version} (${commit}, ${platform})`;
}
