import { describe, expect, it } from 'vitest';
import { callStream } from './call-stream.js';
import { progressRelay } from './progress-relay.js';

describe('progressRelay', () => {
  it('is off without a progress token', () => {
    expect(progressRelay(undefined, () => undefined)).toBeUndefined();
    expect(progressRelay({ not: 'a token' }, () => undefined)).toBeUndefined();
  });

  it("sends each progress under the agent's token, strictly in order, even when a send is slow or fails", async () => {
    const sent: unknown[] = [];
    let first = true;
    const stream = callStream(async (n) => {
      if (first) {
        first = false;
        await new Promise((r) => setTimeout(r, 20));
        throw new Error('stream closed');
      }
      sent.push(n);
    });
    const relay = progressRelay(42, stream.send)!;
    relay.relay({ progress: 1, total: 3 });
    relay.relay({ progress: 2, total: 3, message: 'two' });
    relay.relay({ progress: 3 });
    await stream.sent();
    expect(sent).toEqual([
      { method: 'notifications/progress', params: { progressToken: 42, progress: 2, total: 3, message: 'two' } },
      { method: 'notifications/progress', params: { progressToken: 42, progress: 3 } },
    ]);
  });
});
