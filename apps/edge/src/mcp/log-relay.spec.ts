import { describe, expect, it } from 'vitest';
import { callStream } from './call-stream.js';
import { logRelay } from './log-relay.js';
import { progressRelay } from './progress-relay.js';

describe('logRelay', () => {
  it('is off without a valid log level', () => {
    expect(logRelay(undefined, () => undefined)).toBeUndefined();
    expect(logRelay('loud', () => undefined)).toBeUndefined();
    expect(logRelay({ level: 'info' }, () => undefined)).toBeUndefined();
  });

  it('passes on the messages at or above the level (RFC 5424 order) as notifications/message', async () => {
    const sent: unknown[] = [];
    const relay = logRelay('warning', (n) => void sent.push(n))!;
    expect(relay.minLevel).toBe('warning');
    for (const level of ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'] as const) relay.relay({ level, data: level });
    relay.relay({ level: 'error', logger: 'db', data: { n: 1 } });
    expect(sent.map((n) => (n as { params: { level: string } }).params.level)).toEqual(['warning', 'error', 'critical', 'alert', 'emergency', 'error']);
    expect(sent.at(-1)).toEqual({ method: 'notifications/message', params: { level: 'error', logger: 'db', data: { n: 1 } } });
  });
});

describe('callStream', () => {
  it('sends progress and log messages of a call strictly in arrival order, even when a send is slow or fails', async () => {
    const sent: string[] = [];
    let first = true;
    const stream = callStream(async (n) => {
      if (first) {
        first = false;
        await new Promise((r) => setTimeout(r, 20));
        throw new Error('stream closed');
      }
      sent.push(n.method === 'notifications/progress' ? `progress ${String(n.params['progress'])}` : `log ${String(n.params['data'])}`);
    });
    const progress = progressRelay('t', stream.send)!;
    const logs = logRelay('debug', stream.send)!;
    progress.relay({ progress: 1 });
    progress.relay({ progress: 2 });
    logs.relay({ level: 'info', data: 'a' });
    progress.relay({ progress: 3 });
    logs.relay({ level: 'info', data: 'b' });
    await stream.sent();
    expect(sent).toEqual(['progress 2', 'log a', 'progress 3', 'log b']);
  });
});
