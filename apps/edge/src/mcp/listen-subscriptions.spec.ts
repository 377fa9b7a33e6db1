import type { ServerEvent } from '@modelcontextprotocol/server';
import type { SessionPrincipal } from '@vmcp/contracts';
import { describe, expect, it } from 'vitest';
import type { ChangeListener, RevocationsService } from '../auth/revocations.service.js';
import { ListenSubscriptions, MAX_LISTEN_STREAMS_PER_TENANT } from './listen-subscriptions.service.js';

function principal(tenant: string, token: string, config = 'cfg_1'): SessionPrincipal {
  return { tenant_id: tenant, config_id: config, identifier: 'alice', token_id: token } as SessionPrincipal;
}

function setup() {
  let marks: ChangeListener | undefined;
  const revocations = { onChange: (l: ChangeListener) => (marks = l) } as unknown as RevocationsService;
  const subs = new ListenSubscriptions(revocations);
  /** A stream opened the way the SDK opens one: subscribe() while the request is being served. */
  const open = (p: SessionPrincipal) => {
    const stop = new AbortController();
    const heard: ServerEvent[] = [];
    const unsubscribe = subs.serve(p, stop, () => subs.subscribe((e) => heard.push(e)));
    return { stop, heard, unsubscribe };
  };
  return { subs, open, marks: () => marks! };
}

describe('ListenSubscriptions', () => {
  it("tells a tenant's change only to that tenant's streams", () => {
    const { open, marks } = setup();
    const red1 = open(principal('ten_red', 'tok_1'));
    const red2 = open(principal('ten_red', 'tok_2'));
    const blue = open(principal('ten_blue', 'tok_3'));
    marks().tenantChanged('ten_red');
    expect(red1.heard).toEqual([{ kind: 'tools_list_changed' }]);
    expect(red2.heard).toEqual([{ kind: 'tools_list_changed' }]);
    expect(blue.heard).toEqual([]);
  });

  it('tells every stream after the mark watch restarted (marks may have been missed)', () => {
    const { open, marks } = setup();
    const red = open(principal('ten_red', 'tok_1'));
    const blue = open(principal('ten_blue', 'tok_2'));
    marks().reset();
    expect([red.heard.length, blue.heard.length]).toEqual([1, 1]);
  });

  it('ends the streams of a revoked token or a deleted config, and only those', () => {
    const { open, marks } = setup();
    const revoked = open(principal('ten_red', 'tok_1'));
    const other = open(principal('ten_red', 'tok_2'));
    const deletedConfig = open(principal('ten_red', 'tok_3', 'cfg_gone'));
    marks().revoked!('tok_1');
    marks().revoked!('cfg_gone');
    expect([revoked.stop.signal.aborted, other.stop.signal.aborted, deletedConfig.stop.signal.aborted]).toEqual([true, false, true]);
  });

  it('tells a stream it ended nothing more, even before the SDK unsubscribes it', () => {
    const { open, marks } = setup();
    const revoked = open(principal('ten_red', 'tok_1'));
    marks().revoked!('tok_1');
    marks().tenantChanged('ten_red');
    expect(revoked.heard).toEqual([]);
  });

  it('forgets a stream once the SDK unsubscribes it', () => {
    const { subs, open, marks } = setup();
    const red = open(principal('ten_red', 'tok_1'));
    expect(subs.size()).toBe(1);
    red.unsubscribe();
    red.unsubscribe();
    marks().tenantChanged('ten_red');
    expect(red.heard).toEqual([]);
    expect(subs.size()).toBe(0);
  });

  it('files nothing for a subscription outside a served request (no principal, no events)', () => {
    const { subs, marks } = setup();
    const heard: ServerEvent[] = [];
    subs.subscribe((e) => heard.push(e))();
    marks().reset();
    expect(heard).toEqual([]);
    expect(subs.size()).toBe(0);
  });

  it('caps the streams of one tenant on a replica', () => {
    const { subs, open } = setup();
    for (let i = 0; i < MAX_LISTEN_STREAMS_PER_TENANT; i++) open(principal('ten_red', `tok_${i}`));
    expect(subs.hasRoom('ten_red')).toBe(false);
    expect(subs.hasRoom('ten_blue')).toBe(true);
  });

  it('ends every stream before the HTTP server closes', () => {
    const { subs, open } = setup();
    const streams = [open(principal('ten_red', 'tok_1')), open(principal('ten_blue', 'tok_2'))];
    subs.beforeApplicationShutdown();
    expect(streams.map((s) => s.stop.signal.aborted)).toEqual([true, true]);
  });
});
