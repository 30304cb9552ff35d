/** Classifies ioredis failures. */

const CONNECTION_MESSAGES =
  /Connection is closed|Stream isn't writeable|ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|ENOTCONN|EHOSTUNREACH|socket hang up|Socket closed/i;

/**
 * True when an error means the connection is (temporarily) gone rather than that the
 * command was wrong: ioredis gave up retrying, or the socket closed under the command.
 */
export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return error.name === "MaxRetriesPerRequestError" || CONNECTION_MESSAGES.test(error.message);
}
