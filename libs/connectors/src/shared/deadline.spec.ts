import { describe, expect, it } from 'vitest';
import { Deadline, StoppedError } from './deadline.js';

const never = () => new Promise<never>(() => undefined);

describe('Deadline', () => {
  it('lets work that finishes in time through', async () => {
    await expect(Deadline.after(1000).race(Promise.resolve(7))).resolves.toBe(7);
    await expect(Deadline.after(1000).race(Promise.reject(new Error('boom')))).rejects.toThrow('boom');
  });

  it('stops waiting at the deadline and hands a late value to `late`', async () => {
    let finish!: (v: string) => void;
    const work = new Promise<string>((r) => (finish = r));
    const late: string[] = [];
    await expect(Deadline.after(20).race(work, (v) => late.push(v))).rejects.toEqual(new StoppedError('deadline'));
    finish('lease');
    await work;
    await Promise.resolve();
    expect(late).toEqual(['lease']);
  });

  it('stops waiting when the caller cancels, and refuses to start once cancelled or expired', async () => {
    const controller = new AbortController();
    const waiting = Deadline.after(10_000, controller.signal).race(never());
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ reason: 'cancelled' });
    await expect(Deadline.after(10_000, controller.signal).race(Promise.resolve(1))).rejects.toMatchObject({ reason: 'cancelled' });
    await expect(Deadline.after(0).race(Promise.resolve(1))).rejects.toMatchObject({ reason: 'deadline' });
  });

  it('never reports less than 1 ms remaining', () => {
    expect(Deadline.after(-5).remaining()).toBe(1);
    expect(Deadline.after(5000).remaining()).toBeGreaterThan(4000);
  });
});
