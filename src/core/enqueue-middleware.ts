import type { Envelope } from "./envelope.ts";
import { StemError } from "./errors.ts";
import { type Middleware, compose, middlewareName } from "./middleware.ts";

/**
 * Passes each envelope of one enqueue call through the enqueue middleware, then calls
 * `publish` once with every envelope as the middleware left it (so a batch stays one
 * publish), and lets each middleware's `next` resolve (or reject) with that publish. A
 * middleware that throws before `next` refuses the whole call: nothing is published.
 */
export async function throughEnqueueMiddleware(
  middleware: readonly Middleware[],
  envelopes: Envelope[],
  publish: (envelopes: Envelope[]) => Promise<void>,
): Promise<void> {
  const layers = middleware.flatMap((m, i) =>
    m.enqueue
      ? [
          {
            name: middlewareName(m, i),
            run: (next: (e: Envelope) => Promise<void>, e: Envelope) => m.enqueue!(e, next),
          },
        ]
      : [],
  );
  if (layers.length === 0 || envelopes.length === 0) return publish(envelopes);

  const arrived: Envelope[] = new Array(envelopes.length);
  let count = 0;
  let ready!: () => void;
  let refuse!: (error: unknown) => void;
  const gate = new Promise<void>((resolve, reject) => {
    ready = resolve;
    refuse = reject;
  });
  let published!: () => void;
  let notPublished!: (error: unknown) => void;
  const publishing = new Promise<void>((resolve, reject) => {
    published = resolve;
    notPublished = reject;
  });
  publishing.catch(() => {});

  const chains = envelopes.map((original, i) =>
    compose("enqueue", layers, async (envelope: Envelope) => {
      if (envelope.id !== original.id) {
        throw new StemError("invalid_argument", "enqueue middleware must not change a task's id");
      }
      arrived[i] = envelope;
      if (++count === envelopes.length) ready();
      await publishing;
    })(original),
  );
  for (const chain of chains) chain.catch(refuse);
  try {
    await gate;
    await publish(arrived);
  } catch (error) {
    notPublished(error);
    await Promise.allSettled(chains);
    throw error;
  }
  published();
  await Promise.all(chains);
}
