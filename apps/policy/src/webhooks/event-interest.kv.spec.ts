import { afterEach, describe, expect, it, vi } from 'vitest';

const put = vi.fn<(key: string, value: string) => Promise<number>>();
vi.mock('@vmcp/messaging', async (original) => ({
  ...(await original<typeof import('@vmcp/messaging')>()),
  openEventInterest: vi.fn(async () => ({ put })),
}));

const { EventInterestKv } = await import('./event-interest.kv.js');

const logger = { warn: vi.fn(), info: vi.fn() };
const interest = () => new EventInterestKv({ eventInterestBucket: 'vmcp_event_interest' } as never, {} as never, {} as never, logger as never);

describe('EventInterestKv', () => {
  afterEach(() => {
    put.mockReset();
    logger.warn.mockReset();
  });

  it('marks a tenant whose webhook takes tool-call events, and no other', async () => {
    put.mockResolvedValue(1);
    const kv = interest();
    await kv.markFor('ten_a', ['*']);
    await kv.markFor('ten_b', ['connected_account.status_changed']);
    expect(put.mock.calls.map(([key]) => key)).toEqual(['tool_calls.ten_a']);
  });

  it('tries a reopened bucket once, then refuses with UNAVAILABLE (so the webhook is not stored)', async () => {
    put.mockRejectedValue(new Error('no responders'));
    const kv = interest();
    await expect(kv.markFor('ten_a', ['tool_call.finished'])).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(put).toHaveBeenCalledTimes(2);
    expect(logger.warn).toHaveBeenCalledOnce();
  });
});
