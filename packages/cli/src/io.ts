import type { Readable } from 'node:stream';

/** Where a run reads and writes: the process's own streams, or a test's. */
export interface CliIo {
  readonly stdin: Readable & { readonly isTTY?: boolean; setRawMode?(mode: boolean): unknown };
  readonly stdout: { write(chunk: string): unknown; readonly isTTY?: boolean };
  readonly stderr: { write(chunk: string): unknown };
  /** The environment the CLI reads (VMCP_URL, VMCP_API_KEY, VMCP_ADMIN_KEY, VMCP_PROFILE, VMCP_CONFIG, XDG_CONFIG_HOME, HOME). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Handed to the SDK client (tests answer requests without a server). */
  readonly fetch?: typeof fetch;
  /** Stops long-running commands (`logs tail`) cleanly; without it they run until the process is killed. */
  readonly signal?: AbortSignal;
  /** Clock, for relative times (`--since 15m`). */
  readonly now?: () => number;
}

export function nodeIo(): CliIo {
  return { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env };
}
