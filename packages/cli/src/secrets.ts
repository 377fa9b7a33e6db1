import { createInterface } from 'node:readline';
import { CliError, usageError } from './errors.js';
import type { CliIo } from './io.js';

/**
 * Secrets come from stdin (piped) or a hidden prompt (terminal), never from arguments:
 * arguments end up in shell history and in every user's process listing.
 */
export async function readSecret(io: CliIo, what: string): Promise<string> {
  const value = io.stdin.isTTY ? await promptHidden(io, `${capitalize(what)}: `) : stripNewline(await readAll(io));
  if (!value) throw usageError(`no ${what} given on stdin`);
  return value;
}

/** Basic credentials: `username:password` or two lines (username, then password) on stdin; two prompts on a terminal. */
export async function readBasic(io: CliIo): Promise<{ username: string; password: string }> {
  if (io.stdin.isTTY) {
    const username = await promptVisible(io, 'Username: ');
    const password = await promptHidden(io, 'Password: ');
    if (!username) throw usageError('no username given');
    return { username, password };
  }
  const text = stripNewline(await readAll(io));
  const newline = /\r?\n/.exec(text);
  const split = newline ?? /:/.exec(text);
  if (!split || split.index === 0) throw usageError('--basic-stdin expects "username:password" or two lines (username, then password) on stdin');
  const username = text.slice(0, split.index);
  const password = text.slice(split.index + split[0].length);
  return { username, password };
}

/** The whole of stdin as text (a file, a pipe, `-` for --params-file). */
export async function readAll(io: CliIo): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of io.stdin) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

function stripNewline(s: string): string {
  return s.replace(/\r?\n$/, '');
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

async function promptVisible(io: CliIo, prompt: string): Promise<string> {
  const rl = createInterface({ input: io.stdin, output: io.stderr as NodeJS.WritableStream, terminal: false });
  io.stderr.write(prompt);
  try {
    const line = await new Promise<string>((resolve) => rl.once('line', resolve).once('close', () => resolve('')));
    return line.trim();
  } finally {
    rl.close();
  }
}

/** Reads one line from a terminal in raw mode, echoing nothing. Ctrl-C cancels. */
function promptHidden(io: CliIo, prompt: string): Promise<string> {
  const stdin = io.stdin;
  io.stderr.write(prompt);
  return new Promise<string>((resolve, reject) => {
    let value = '';
    const finish = (err?: Error) => {
      stdin.off('data', onData);
      stdin.setRawMode?.(false);
      stdin.pause();
      io.stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: Buffer | string) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return finish();
        if (ch === '\u0003') return finish(new CliError('CANCELLED', 'cancelled', 130));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.setRawMode?.(true);
    stdin.on('data', onData);
    stdin.resume();
  });
}
