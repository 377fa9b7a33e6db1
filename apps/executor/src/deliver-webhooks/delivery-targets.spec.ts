import type { Bus } from '@vmcp/messaging';
import { describe, expect, it } from 'vitest';
import { DELIVERY_TARGET_TTL_MS, DeliveryTargets } from './delivery-targets.js';

type Target = { url: string; events: string[]; signing_secret: string } | null;

/** A bus whose delivery_target answers are released by the test, and whose webhook_changed it can send. */
function fakeBus(answer: (tenant: string) => Target) {
  let changed: ((e: { tenant_id: string }) => void) | undefined;
  const pending: Array<() => void> = [];
  let asked = 0;
  let hold = false;
  const bus = {
    subscribe: (_event: unknown, handler: (e: { tenant_id: string }) => void) => {
      changed = handler;
      return { unsubscribe: () => (changed = undefined) };
    },
    request: (_rpc: unknown, req: { tenant_id: string }) => {
      asked++;
      const reply = { target: answer(req.tenant_id) };
      if (!hold) return Promise.resolve(reply);
      return new Promise((resolve) => pending.push(() => resolve(reply)));
    },
  } as unknown as Bus;
  return {
    bus,
    asked: () => asked,
    change: (tenant: string) => changed?.({ tenant_id: tenant }),
    holdAnswers: () => (hold = true),
    release: () => pending.splice(0).forEach((r) => r()),
  };
}

const target = (secret: string): Target => ({ url: 'https://example.test/hook', events: ['*'], signing_secret: secret });

describe('DeliveryTargets', () => {
  it("keeps a tenant's target, and its absence, without asking policy again", async () => {
    const f = fakeBus((t) => (t === 'ten_a' ? target('whsec_a') : null));
    const targets = new DeliveryTargets(f.bus);
    expect(await targets.get('ten_a')).toEqual(target('whsec_a'));
    expect(await targets.get('ten_a')).toEqual(target('whsec_a'));
    expect(await targets.get('ten_b')).toBeNull();
    expect(await targets.get('ten_b')).toBeNull();
    expect(f.asked()).toBe(2);
  });

  it('shows a kept copy without asking, and nothing once it changed or aged out', async () => {
    let now = 1_000;
    const f = fakeBus((t) => (t === 'ten_a' ? target('whsec_a') : null));
    const targets = new DeliveryTargets(f.bus, () => now);
    expect(targets.kept('ten_a')).toBeUndefined();
    await targets.get('ten_a');
    await targets.get('ten_b');
    expect(targets.kept('ten_a')?.target).toEqual(target('whsec_a'));
    // "No webhook" is a kept answer too: that is what lets the usual event be skipped unread.
    expect(targets.kept('ten_b')).toEqual(expect.objectContaining({ target: null }));
    f.change('ten_a');
    expect(targets.kept('ten_a')).toBeUndefined();
    now += DELIVERY_TARGET_TTL_MS + 1;
    expect(targets.kept('ten_b')).toBeUndefined();
    expect(f.asked()).toBe(2);
  });

  it("asks again after a webhook_changed of that tenant only (a rotated secret is used at once)", async () => {
    let secret = 'whsec_old';
    const f = fakeBus((t) => (t === 'ten_a' ? target(secret) : target('whsec_b')));
    const targets = new DeliveryTargets(f.bus);
    await targets.get('ten_a');
    await targets.get('ten_b');
    secret = 'whsec_new';
    f.change('ten_a');
    expect(await targets.get('ten_a')).toEqual(target('whsec_new'));
    await targets.get('ten_b');
    expect(f.asked()).toBe(3);
  });

  it('does not keep an answer asked for before a change and arriving after it', async () => {
    let secret = 'whsec_old';
    const f = fakeBus(() => target(secret));
    const targets = new DeliveryTargets(f.bus);
    f.holdAnswers();
    const early = targets.get('ten_a');
    f.change('ten_a');
    f.release();
    expect(await early).toEqual(target('whsec_old'));
    secret = 'whsec_new';
    const next = targets.get('ten_a');
    f.release();
    expect(await next).toEqual(target('whsec_new'));
  });

  it('asks again once a copy is older than the TTL (a change event lost while NATS was away)', async () => {
    let now = 1_000;
    const f = fakeBus(() => null);
    const targets = new DeliveryTargets(f.bus, () => now);
    await targets.get('ten_a');
    now += DELIVERY_TARGET_TTL_MS - 1;
    await targets.get('ten_a');
    expect(f.asked()).toBe(1);
    now += 2;
    await targets.get('ten_a');
    expect(f.asked()).toBe(2);
  });
});
