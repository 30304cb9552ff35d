import { luaScript } from "../scripts.ts";
import { PUBLISH_ENVELOPES, STORE_STATUSES } from "./shared.ts";

/**
 * The producer's enqueue step in one atomic script: stores the tasks' `queued` statuses,
 * then publishes their envelopes to one queue (as `publish-15`). The statuses are written
 * before any entry exists, so a worker's later status can never be overwritten by them;
 * a failure while storing stops the script before anything is published.
 *
 * KEYS: resultsByUpdated, resultsByExpiry, taskIds, queues, delayed, delayedData, wake,
 *       stream band 0..9, then the result and timeline key of each status
 * ARGV: group, queue, then the statuses as `store_statuses` in shared.ts takes them, then (id, band, vt, notBefore, json) per envelope
 * Returns one flag per envelope: 1 accepted, 0 duplicate.
 */
export const publishWithStatusesScript = luaScript(
  "stemPublishWithStatuses",
  "variable",
  `${STORE_STATUSES}${PUBLISH_ENVELOPES}
local first_envelope = store_statuses(KEYS[1], KEYS[2], 18, 3)
return publish_envelopes(KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], 8, ARGV[1], ARGV[2], first_envelope)
`,
);
