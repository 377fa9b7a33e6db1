import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';

describe('createLogger', () => {
  it('writes JSON lines and censors secret-looking fields at any of the first levels', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const log = createLogger('test', 'info', sink);
    log.info({ token: 's1', nested: { api_key: 's2', password: 's3' }, deep: { a: { secret: 's4' } }, headers: { authorization: 's5' }, ok: 'visible' }, 'hello');
    await new Promise((r) => setImmediate(r));
    const out = lines.join('');
    for (const s of ['s1', 's2', 's3', 's4', 's5']) expect(out).not.toContain(`"${s}"`);
    expect(JSON.parse(out)).toMatchObject({ msg: 'hello', level: 'info', service: 'vmcp-test', ok: 'visible', token: '[REDACTED]' });
  });
});
