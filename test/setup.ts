/**
 * Loaded before every test file (bunfig.toml). Tests that start processes or servers wait
 * on events, not on time; this generous default only bounds a test that hangs.
 */
import { setDefaultTimeout } from "bun:test";

setDefaultTimeout(60_000);
