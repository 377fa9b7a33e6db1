import { executor } from '@vmcp/contracts';
import type { StreamNotification } from './call-stream.js';
import type { CallLog } from '@vmcp/connectors';

/**
 * Passes a call's log messages to the agent as `notifications/message`, those at `level` or
 * above (RFC 5424 order), through the call's stream (see callStream: in arrival order).
 * Undefined when the agent asked for none (no valid level): then nothing is asked
 * upstream, and the agent gets no log message at all.
 */
export function logRelay(level: unknown, send: (n: StreamNotification) => void): { minLevel: executor.LoggingLevel; relay: (log: CallLog) => void } | undefined {
  const min = executor.LoggingLevel.safeParse(level);
  if (!min.success) return undefined;
  const minLevel = min.data;
  return {
    minLevel,
    relay: (log) => {
      if (!executor.logLevelPasses(log.level, minLevel)) return;
      send({ method: 'notifications/message', params: { level: log.level, ...(log.logger !== undefined ? { logger: log.logger } : {}), data: log.data } });
    },
  };
}
