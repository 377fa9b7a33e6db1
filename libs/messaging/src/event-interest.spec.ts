import type { KV } from '@nats-io/kv';
import { describe, expect, it, vi } from 'vitest';
import { EventInterestWriter, takesToolCallEvents } from './event-interest.js';

describe('takesToolCallEvents', () => {
  it('is true for every type (none given, or `*`) and for any tool-call type', () => {
    expect(takesToolCallEvents(undefined)).toBe(true);
    expect(takesToolCallEvents([])).toBe(true);
    expect(takesToolCallEvents(['*'])).toBe(true);
    expect(takesToolCallEvents(['tool_call.finished'])).toBe(true);
    expect(takesToolCallEvents(['connected_account.status_changed', 'tool_call.denied'])).toBe(true);
  });

  it('is false for subscriptions to other types only', () => {
    expect(takesToolCallEvents(['connected_account.status_changed'])).toBe(false);
  });
});

describe('EventInterestWriter', () => {
  const until = async (check: () => boolean) => {
    for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
    expect(check()).toBe(true);
  };
  const fakeBucket = (fail: () => boolean = () => false) => {
    const keys: string[] = [];
    let opened = 0;
    const open = async () => {
      opened++;
      return { put: async (key: string) => (fail() ? Promise.reject(new Error('no responders')) : (keys.push(key), keys.length)) } as unknown as KV;
    };
    return { keys, open, opened: () => opened };
  };
  const logger = () => ({ warn: vi.fn(), info: vi.fn() });

  it('marks every reader, then says it is ready', async () => {
    const b = fakeBucket();
    const writer = new EventInterestWriter('policy', b.open, async () => ['ten_a', 'ten_b'], logger());
    writer.start();
    await until(() => b.keys.includes('ready.policy'));
    writer.stop();
    expect(b.keys).toEqual(['tool_calls.ten_a', 'tool_calls.ten_b', 'ready.policy']);
  });

  it('retries a failed pass soon, saying so once, and never says it is ready before a pass succeeded', async () => {
    const b = fakeBucket();
    let failures = 3;
    const log = logger();
    const writer = new EventInterestWriter('edge', b.open, async () => (failures-- > 0 ? Promise.reject(new Error('stream not found')) : ['ten_c']), log, 10);
    writer.start();
    await until(() => b.keys.includes('ready.edge'));
    writer.stop();
    expect(b.keys).toEqual(['tool_calls.ten_c', 'ready.edge']);
    expect(log.warn).toHaveBeenCalledOnce();
    expect(log.info).toHaveBeenCalledOnce();
  });

  it('opens the bucket again when a mark fails, then runs a whole pass (the new bucket has only that mark)', async () => {
    let failing = true;
    const b = fakeBucket(() => {
      const now = failing;
      failing = false;
      return now;
    });
    const writer = new EventInterestWriter('policy', b.open, async () => ['ten_old'], logger());
    await writer.mark('ten_new');
    expect(b.opened()).toBe(2);
    await until(() => b.keys.includes('ready.policy'));
    writer.stop();
    expect(b.keys).toEqual(['tool_calls.ten_new', 'tool_calls.ten_old', 'ready.policy']);
  });

  it('throws when the mark cannot be stored in a bucket opened again either', async () => {
    const b = fakeBucket(() => true);
    const writer = new EventInterestWriter('edge', b.open, async () => [], logger());
    await expect(writer.mark('ten_x')).rejects.toThrow('no responders');
    writer.stop();
  });
});
