import type { CallProgress } from './tool-call.service.js';

type ProgressToken = string | number;
type Notify = (notification: { method: 'notifications/progress'; params: Record<string, unknown> }) => Promise<void>;

/**
 * Passes a call's progress to the agent as `notifications/progress` under the agent's own
 * token, one after the other in arrival order (a notification never overtakes the one
 * before it). Undefined when the agent sent no progressToken: then nothing is asked upstream.
 * A notification that cannot be sent (the agent went away) is dropped.
 */
export function progressRelay(token: unknown, notify: Notify): { relay: (p: CallProgress) => void; sent: () => Promise<void> } | undefined {
  if (typeof token !== 'string' && typeof token !== 'number') return undefined;
  const progressToken: ProgressToken = token;
  let chain = Promise.resolve();
  return {
    relay: (p) => {
      const params = {
        progressToken,
        progress: p.progress,
        ...(p.total !== undefined ? { total: p.total } : {}),
        ...(p.message !== undefined ? { message: p.message } : {}),
      };
      chain = chain.then(() => notify({ method: 'notifications/progress', params })).catch(() => undefined);
    },
    sent: () => chain,
  };
}
