import { EventEmitter } from 'node:events';
import type { SessionPrincipal } from '@vmcp/contracts';
import type { Response as ExpressResponse } from 'express';
import { describe, expect, it } from 'vitest';
import type { ChangeListener, RevocationsService } from '../auth/revocations.service.js';
import { ListChangedStreams } from './list-changed-streams.service.js';

/** An Express response as the streams use it; a write after end throws, as an unhandled 'error' would crash the edge. */
class FakeResponse extends EventEmitter {
  writableEnded = false;
  readonly written: string[] = [];
  status() {
    return this;
  }
  set() {
    return this;
  }
  flushHeaders() {
    this.emit('headers');
  }
  write(chunk: string) {
    if (this.writableEnded) throw new Error('write after end');
    this.written.push(chunk);
    return true;
  }
  end() {
    this.writableEnded = true;
    // Node emits 'close' later, not within end().
    setImmediate(() => this.emit('close'));
  }
}

function setup() {
  let marks: ChangeListener | undefined;
  const revocations = { onChange: (l: ChangeListener) => (marks = l), isTokenRevoked: () => false } as unknown as RevocationsService;
  const streams = new ListChangedStreams(revocations);
  const open = (tenant: string, token: string, config = 'cfg_1') => {
    const res = new FakeResponse();
    streams.open(res as unknown as ExpressResponse, { tenant_id: tenant, config_id: config, identifier: 'alice', token_id: token } as SessionPrincipal, 'sess');
    return res;
  };
  return { streams, open, marks: () => marks! };
}

describe('ListChangedStreams', () => {
  it("sends list_changed to the tenant's streams only", () => {
    const { open, marks } = setup();
    const red = open('ten_red', 'tok_1');
    const blue = open('ten_blue', 'tok_2');
    marks().tenantChanged('ten_red');
    expect(red.written.join('')).toContain('notifications/tools/list_changed');
    expect(blue.written).toEqual([]);
  });

  it('ends the streams of a deleted config, and a change mark right after writes nothing to them', () => {
    const { streams, open, marks } = setup();
    const gone = open('ten_red', 'tok_1', 'cfg_gone');
    const kept = open('ten_red', 'tok_2', 'cfg_kept');
    // Deleting a config writes both its revocation and the tenant's change mark.
    marks().revoked!('cfg_gone');
    expect(() => marks().tenantChanged('ten_red')).not.toThrow();
    expect(gone.writableEnded).toBe(true);
    expect(gone.written).toEqual([]);
    expect(kept.written).toHaveLength(1);
    expect(streams.size()).toBe(1);
  });

  it('ends the streams of a revoked token only', () => {
    const { open, marks } = setup();
    const revoked = open('ten_red', 'tok_1');
    const other = open('ten_red', 'tok_2');
    marks().revoked!('tok_1');
    expect([revoked.writableEnded, other.writableEnded]).toEqual([true, false]);
  });

  it('ends every stream before the HTTP server closes', () => {
    const { streams, open } = setup();
    const all = [open('ten_red', 'tok_1'), open('ten_blue', 'tok_2')];
    streams.beforeApplicationShutdown();
    expect(all.map((r) => r.writableEnded)).toEqual([true, true]);
    expect(streams.size()).toBe(0);
  });
});
