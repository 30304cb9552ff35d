/** docs/cli.md is exactly what `npm run docs:cli` generates from the command definitions. */
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { CLI_REFERENCE_PATH, cliReference } from "../../scripts/cli-reference.ts";

test("the committed CLI reference matches the commands' --help (run npm run docs:cli)", async () => {
  const generated = await cliReference();
  expect(generated).toContain("## stem dlq retry");
  // A word-long alias is shown as the long option it is.
  expect(generated).toContain("--timezone, --tz=<tz>");
  expect(readFileSync(CLI_REFERENCE_PATH, "utf8")).toBe(generated);
});
