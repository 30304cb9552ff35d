import { defineCommand } from "citty";
import { withExamples } from "./output/help.ts";
import { signingConfigFromEnv, parseAlgorithm } from "../src/security/signing-config.ts";
import { formatEnv, generateSigningKey } from "../src/security/signing-keys.ts";
import { PayloadSigner } from "../src/security/signing.ts";
import { UsageError, fail, jsonArg, printJson, printTable } from "./shared.ts";

const generate = defineCommand({
  meta: {
    name: "generate",
    description:
      "Print a new signing key as STEM_SIGNING_* lines (add the key to STEM_SIGNING_KEYS to rotate)",
  },
  args: {
    ...jsonArg,
    algorithm: { type: "string", default: "hmac", description: "hmac (HMAC-SHA256) or ed25519" },
    id: { type: "string", description: "Key id (default: k<date>-<random>)" },
  },
  run: ({ args }) => {
    let algorithm: ReturnType<typeof parseAlgorithm>;
    try {
      algorithm = parseAlgorithm(args.algorithm, "--algorithm");
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    const key = generateSigningKey(algorithm, args.id || undefined);
    if (args.json) return printJson(key);
    process.stdout.write(`${formatEnv(key.env)}\n`);
    process.stderr.write(
      algorithm === "ed25519"
        ? "Workers need STEM_SIGNING_KEYS (public keys); only producers need STEM_SIGNING_PRIVATE_KEYS.\n"
        : "Producers and workers share the secret. To rotate, keep old keys listed in STEM_SIGNING_KEYS.\n",
    );
  },
});

const check = defineCommand({
  meta: { name: "check", description: "Check the STEM_SIGNING_* settings of this environment" },
  args: { ...jsonArg },
  run: ({ args }) => {
    const config = signingConfigFromEnv();
    if (!config) {
      if (args.json) printJson({ enabled: false });
      else process.stdout.write("payload signing is off (no STEM_SIGNING_* variable is set)\n");
      return fail();
    }
    const signer = new PayloadSigner(config);
    const summary = {
      enabled: true,
      algorithm: signer.algorithm,
      keys: signer.keyIds,
      activeKey: signer.activeKey ?? null,
      canSign: signer.canSign,
    };
    if (args.json) return printJson(summary);
    printTable(
      ["algorithm", "keys", "active key", "signs"],
      [
        [
          summary.algorithm,
          summary.keys.join(", "),
          summary.activeKey ?? "(none: verify only)",
          summary.canSign ? "yes" : "no",
        ],
      ],
    );
  },
});

export const keysCommand = defineCommand({
  meta: {
    name: "keys",
    description: "Payload signing keys: generate new ones, check the configured ones",
  },
  subCommands: { generate, check },
});

withExamples(generate, ["stem keys generate", "stem keys generate --algorithm ed25519 --json"]);
withExamples(check, ["stem keys check"]);
withExamples(keysCommand, ["stem keys generate >> .env", "stem keys check"]);
