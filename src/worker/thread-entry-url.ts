/**
 * Where the handler-thread entry module is. Run from source, it is thread-entry.ts next to
 * this file. In the compiled binary it is a second entry point bundled as a `.js` file at
 * its path under the binary's virtual root; build.ts defines `STEM_THREAD_ENTRY` as that
 * path, resolved against the bundle's own URL (the root's folder).
 */
declare const STEM_THREAD_ENTRY: string | undefined;

/** The URL to start a handler thread from. */
export function threadEntryUrl(): string {
  return typeof STEM_THREAD_ENTRY === "string"
    ? new URL(STEM_THREAD_ENTRY, import.meta.url).href
    : new URL("./thread-entry.ts", import.meta.url).href;
}
