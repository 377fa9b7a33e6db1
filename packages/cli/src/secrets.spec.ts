import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CliError } from './errors.js';
import type { CliIo } from './io.js';
import { readBasic, readSecret } from './secrets.js';

/** A terminal: typed keys arrive as data, raw mode is recorded, stderr is captured. */
function terminal(): { io: CliIo; type(keys: string): void; raw: boolean[]; stderr: () => string } {
  const stdin = Object.assign(new PassThrough(), { isTTY: true, setRawMode: (m: boolean) => raw.push(m) });
  const raw: boolean[] = [];
  let err = '';
  const io: CliIo = { stdin, stdout: { write: () => true }, stderr: { write: (s: string) => (err += s) }, env: {} };
  return { io, type: (keys) => stdin.write(keys), raw, stderr: () => err };
}

function piped(text: string): CliIo {
  return { stdin: Readable.from([Buffer.from(text)]), stdout: { write: () => true }, stderr: { write: () => true }, env: {} };
}

describe('readSecret', () => {
  it('reads piped stdin, without its final newline', async () => {
    expect(await readSecret(piped('s3cret\n'), 'token')).toBe('s3cret');
    expect(await readSecret(piped('s3cret \r\n'), 'token')).toBe('s3cret ');
  });

  it('prompts on a terminal in raw mode and echoes nothing of the secret', async () => {
    const t = terminal();
    const value = readSecret(t.io, 'API key');
    t.type('vmcp_sk_');
    t.type('abcx\u007fd\r');
    expect(await value).toBe('vmcp_sk_abcd');
    expect(t.stderr()).toBe('API key: \n');
    expect(t.raw).toEqual([true, false]);
  });

  it('cancels on Ctrl-C and restores the terminal', async () => {
    const t = terminal();
    const value = readSecret(t.io, 'token');
    t.type('abc\u0003');
    await expect(value).rejects.toBeInstanceOf(CliError);
    await expect(value).rejects.toMatchObject({ code: 'CANCELLED', exitCode: 130 });
    expect(t.raw).toEqual([true, false]);
  });

  it('treats nothing given as a usage error', async () => {
    await expect(readSecret(piped(''), 'token')).rejects.toMatchObject({ code: 'USAGE', message: 'no token given on stdin' });
  });
});

describe('readBasic', () => {
  it('reads username:password or two lines; the password may hold colons', async () => {
    expect(await readBasic(piped('alice:p:w\n'))).toEqual({ username: 'alice', password: 'p:w' });
    expect(await readBasic(piped('alice\np:w\n'))).toEqual({ username: 'alice', password: 'p:w' });
    await expect(readBasic(piped('justone\n'))).rejects.toMatchObject({ code: 'USAGE' });
    await expect(readBasic(piped(':pw'))).rejects.toMatchObject({ code: 'USAGE' });
  });
});
