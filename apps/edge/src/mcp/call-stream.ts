/** A notification to the agent on a call's stream. */
export interface StreamNotification {
  readonly method: string;
  readonly params: Record<string, unknown>;
}

/**
 * The notifications of one call to its agent (progress and log messages alike), sent one
 * after the other in the order they came: one never overtakes another. `send` queues at
 * once; `sent` settles when everything queued so far went out. A notification that cannot
 * be sent (the agent went away) is dropped.
 */
export function callStream(notify: (notification: StreamNotification) => Promise<void>): { send: (n: StreamNotification) => void; sent: () => Promise<void> } {
  let chain = Promise.resolve();
  return {
    send: (n) => {
      chain = chain.then(() => notify(n)).catch(() => undefined);
    },
    sent: () => chain,
  };
}
