/**
 * What NATS refused, as `<operation> <subject>` (e.g. `publish $JS.API.INFO`), from the error
 * a nats.js call failed with or a subscription closed with. Anything else (no error, a
 * JetStream error, a timeout) throws: in a permissions test only the bus may stop the attempt.
 */
export function permissionViolationOf(failure: unknown): string {
  for (let e = failure; e instanceof Error; e = e.cause) {
    if (e.name === 'PermissionViolationError') {
      const { operation, subject } = e as Error & { operation: string; subject: string };
      return `${operation} ${subject}`;
    }
  }
  throw new Error(`expected a permissions violation, got ${failure === undefined ? 'success' : String(failure)}`);
}

/** Runs `attempt` and returns what NATS refused it (see permissionViolationOf). */
export async function permissionRefusal(attempt: () => Promise<unknown>): Promise<string> {
  let failure: unknown;
  try {
    await attempt();
  } catch (err) {
    failure = err;
  }
  return permissionViolationOf(failure);
}
