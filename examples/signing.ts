/**
 * Payload signing: the producer signs every task it enqueues, the worker verifies each
 * one before running it, and a task that was changed on the way (or never signed) is
 * dead-lettered with reason "signature" instead of running.
 *
 *   bun examples/signing.ts
 *
 * In production, configure it from the environment instead of code:
 *
 *   stem keys generate --algorithm hmac >> .env      # or --algorithm ed25519
 *   # STEM_SIGNING_ALGORITHM=hmac-sha256
 *   # STEM_SIGNING_KEYS=k1:<base64 secret>           # every key that may verify
 *   # STEM_SIGNING_ACTIVE_KEY=k1                     # the key that signs
 *
 * With Ed25519 only producers hold STEM_SIGNING_PRIVATE_KEYS; workers get the public keys.
 * To rotate: add the new key to STEM_SIGNING_KEYS everywhere, switch
 * STEM_SIGNING_ACTIVE_KEY, and remove the old key once its tasks have drained.
 */
import {
  buildEnvelope,
  defineTask,
  generateSigningKey,
  PayloadSigner,
  signals,
  StemClient,
} from "../src/index.ts";

const charge = defineTask<{ customerId: string; amount: number }, string>({
  name: "billing.charge",
  run: (_ctx, { customerId, amount }) => `charged ${customerId} ${amount}`,
});

// Old key k1 is still accepted while new key k2 signs: a rotation in progress.
const k1 = generateSigningKey("hmac-sha256", "k1");
const k2 = generateSigningKey("hmac-sha256", "k2");
const signer = new PayloadSigner({
  algorithm: "hmac-sha256",
  keys: { k1: k1.secret!, k2: k2.secret! },
  activeKey: "k2",
});

const client = await StemClient.inMemory({ tasks: [charge], signer });
signals.taskDeadLettered.connect(({ envelope, reason }) => {
  console.log(`dead-lettered ${envelope.name} (${reason})`);
});
const worker = client.createWorker();
await worker.start();

const id = await client.enqueue("billing.charge", { customerId: "cust_123", amount: 4200 });
console.log((await client.waitForTask<string>(id)).value);

// Someone edits a signed task on the broker: the worker refuses to run it.
const tampered = signer.sign(
  buildEnvelope({ name: "billing.charge", args: { customerId: "cust_123", amount: 1 } }),
);
tampered.args.amount = 1_000_000;
await client.broker.publish([tampered]);
const refused = await client.waitForTask(tampered.id);
console.log(`tampered task: ${refused.state} (${refused.error?.message})`);

await client.close();
