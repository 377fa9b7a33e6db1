import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { run } from '../src/program.js';

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  /** Added to an environment that points the config file at an empty temporary directory. */
  readonly env?: Record<string, string | undefined>;
  /** What the command reads on stdin (piped, not a terminal). */
  readonly stdin?: string;
  readonly fetch?: typeof fetch;
  readonly signal?: AbortSignal;
  readonly now?: () => number;
  /** Called with everything written to stdout so far, after each write. */
  readonly onStdout?: (all: string) => void;
}

/** A fresh HOME / XDG_CONFIG_HOME, so no test reads the developer's own config file. */
export function isolatedEnv(): Record<string, string> {
  const home = mkdtempSync(join(tmpdir(), 'vmcp-cli-'));
  return { HOME: home, XDG_CONFIG_HOME: join(home, '.config') };
}

/** Runs the CLI in-process, as `vmcp <argv…>` would, and captures what it prints. */
export async function runCli(argv: readonly string[], o: RunOptions = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await run(argv, {
    stdin: Readable.from(o.stdin === undefined ? [] : [Buffer.from(o.stdin)]),
    stdout: {
      write: (s: string) => {
        stdout += s;
        o.onStdout?.(stdout);
        return true;
      },
    },
    stderr: {
      write: (s: string) => {
        stderr += s;
        return true;
      },
    },
    env: { ...isolatedEnv(), ...o.env },
    ...(o.fetch ? { fetch: o.fetch } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
    ...(o.now ? { now: o.now } : {}),
  });
  return { code, stdout, stderr };
}

export interface RecordedRequest {
  readonly method: string;
  /** scheme://host:port the request went to. */
  readonly origin: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: Headers;
  readonly body: unknown;
}

export interface FakeReply {
  readonly status?: number;
  readonly body?: unknown;
}

/** A fetch that answers from `handle` and records every request; nothing leaves the process. */
export function fakeApi(handle: (req: RecordedRequest) => FakeReply | Promise<FakeReply>): { fetch: typeof fetch; requests: RecordedRequest[] } {
  const requests: RecordedRequest[] = [];
  const fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    const text = typeof init?.body === 'string' ? init.body : undefined;
    const req: RecordedRequest = {
      method: (init?.method ?? 'GET').toUpperCase(),
      origin: url.origin,
      path: url.pathname,
      query: url.searchParams,
      headers: new Headers(init?.headers),
      body: text === undefined ? undefined : (JSON.parse(text) as unknown),
    };
    requests.push(req);
    const reply = await handle(req);
    return new Response(reply.body === undefined ? null : JSON.stringify(reply.body), {
      status: reply.status ?? 200,
      headers: { 'content-type': 'application/json' },
    });
  };
  return { fetch: fetch as typeof globalThis.fetch, requests };
}

/** The API's error reply. */
export function apiError(status: number, code: string, message: string): FakeReply {
  return { status, body: { error: { code, message } } };
}
