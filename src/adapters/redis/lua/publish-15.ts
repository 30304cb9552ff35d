import { luaScript } from "../scripts.ts";
import { PUBLISH_ENVELOPES } from "./shared.ts";

/**
 * Publishes envelopes to one queue. Refuses ids already queued, delayed or in flight
 * anywhere under the prefix; holds envelopes whose notBefore is still ahead.
 *
 * KEYS: taskIds, queues, delayed, delayedData, wake, stream band 0..9
 * ARGV: group, queue, then per envelope: id, band, vt, notBefore ('' = none), json
 * Returns one flag per envelope: 1 accepted, 0 duplicate.
 */
export const publishScript = luaScript(
  "stemPublish",
  15,
  `${PUBLISH_ENVELOPES}
return publish_envelopes(KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], 6, ARGV[1], ARGV[2], 3)
`,
);
