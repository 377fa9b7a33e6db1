import type { StreamNotification } from './call-stream.js';
import type { CallProgress } from '@vmcp/connectors';

type ProgressToken = string | number;

/**
 * Passes a call's progress to the agent as `notifications/progress` under the agent's own
 * token, through the call's stream (see callStream: in arrival order). Undefined when the
 * agent sent no progressToken: then nothing is asked upstream.
 */
export function progressRelay(token: unknown, send: (n: StreamNotification) => void): { relay: (p: CallProgress) => void } | undefined {
  if (typeof token !== 'string' && typeof token !== 'number') return undefined;
  const progressToken: ProgressToken = token;
  return {
    relay: (p) => {
      const params = {
        progressToken,
        progress: p.progress,
        ...(p.total !== undefined ? { total: p.total } : {}),
        ...(p.message !== undefined ? { message: p.message } : {}),
      };
      send({ method: 'notifications/progress', params });
    },
  };
}
