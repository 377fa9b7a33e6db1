import { afterEach, describe, expect, it } from 'vitest';
import { SessionPool } from './session-pool.js';

// The pool with fake sessions and a fake clock: no network, no timers.

interface Fake {
  readonly id: number;
  closed: boolean;
}

describe('SessionPool', () => {
  let clock = 0;
  let opened = 0;
  let pool: SessionPool<Fake, { account: string }>;
  const open = async (): Promise<Fake> => ({ id: ++opened, closed: false });
  const make = (over: { maxSize?: number; idleMs?: number } = {}) => {
    clock = 0;
    opened = 0;
    pool = new SessionPool<Fake, { account: string }>({
      idleMs: over.idleMs ?? 1000,
      maxSize: over.maxSize ?? 10,
      now: () => clock,
      sweepEveryMs: 0,
      close: (s) => {
        s.closed = true;
      },
    });
    return pool;
  };

  afterEach(async () => {
    await pool?.closeAll();
  });

  it('opens once for concurrent first uses and shares the session', async () => {
    make();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slowOpen = async () => {
      await gate;
      return open();
    };
    const leases = Promise.all([1, 2, 3].map(() => pool.acquire('a', { account: 'a' }, slowOpen)));
    release();
    const [l1, l2, l3] = await leases;
    expect(opened).toBe(1);
    expect(new Set([l1!.session, l2!.session, l3!.session]).size).toBe(1);
    const again = await pool.acquire('a', { account: 'a' }, open);
    expect(again.session).toBe(l1!.session);
    expect(opened).toBe(1);
  });

  it('does not keep a failed open', async () => {
    make();
    await expect(pool.acquire('a', { account: 'a' }, () => Promise.reject(new Error('vault says no')))).rejects.toThrow('vault says no');
    expect(pool.size).toBe(0);
    await expect(pool.acquire('a', { account: 'a' }, open)).resolves.toMatchObject({ session: { id: 1 } });
  });

  it('retires at once but closes only when the last running operation is done', async () => {
    make();
    const lease = await pool.acquire('a', { account: 'a' }, open);
    pool.retire((t) => t.account === 'a');
    expect(pool.size).toBe(0);
    expect(lease.session.closed).toBe(false);
    const fresh = await pool.acquire('a', { account: 'a' }, open);
    expect(fresh.session.id).toBe(2);
    lease.release();
    lease.release();
    expect(lease.session.closed).toBe(true);
    expect(fresh.session.closed).toBe(false);
  });

  it('never pools a session retired while it was opening, and opens a fresh one for its waiters', async () => {
    make();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const sessions: Fake[] = [];
    const gatedOpen = async () => {
      if (opened === 0) await gate;
      const s = await open();
      sessions.push(s);
      return s;
    };
    const waiting = pool.acquire('a', { account: 'a' }, gatedOpen);
    pool.retire((t) => t.account === 'a');
    release();
    const lease = await waiting;
    expect(lease.session.id).toBe(2);
    expect(sessions[0]!.closed).toBe(true);
    expect(pool.size).toBe(1);
  });

  it('pushes out the least recently used session at the size cap', async () => {
    make({ maxSize: 2 });
    const a = await pool.acquire('a', { account: 'a' }, open);
    const b = await pool.acquire('b', { account: 'b' }, open);
    a.release();
    b.release();
    (await pool.acquire('a', { account: 'a' }, open)).release();
    (await pool.acquire('c', { account: 'c' }, open)).release();
    expect(pool.size).toBe(2);
    expect(b.session.closed).toBe(true);
    expect(a.session.closed).toBe(false);
  });

  it('closes sessions idle for longer than the idle time, not busy ones', async () => {
    make({ idleMs: 1000 });
    const idle = await pool.acquire('a', { account: 'a' }, open);
    const busy = await pool.acquire('b', { account: 'b' }, open);
    idle.release();
    clock = 999;
    pool.sweep();
    expect(pool.size).toBe(2);
    clock = 1000;
    pool.sweep();
    expect(idle.session.closed).toBe(true);
    expect(busy.session.closed).toBe(false);
    expect(pool.size).toBe(1);
  });

  it('closes everything on closeAll, in use or not', async () => {
    make();
    const a = await pool.acquire('a', { account: 'a' }, open);
    await pool.closeAll();
    expect(a.session.closed).toBe(true);
    expect(pool.size).toBe(0);
  });
});
