import { VmcpApiError, VmcpConnectionError, VmcpError, VmcpTimeoutError } from '@vmcp/sdk';
import { CommanderError } from 'commander';

/** Exit codes: 0 done, 1 failed (API error, tool error, broken audit chain), 2 bad usage. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/**
 * A failure the CLI itself detects, with a stable code in the API's style
 * (`USAGE` for bad arguments, otherwise an API code such as `UNAUTHENTICATED`).
 */
export class CliError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly exitCode: number = EXIT_FAILED,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Bad arguments: exit 2, like commander's own parse errors. */
export function usageError(message: string): CliError {
  return new CliError('USAGE', message, EXIT_USAGE);
}

export interface DescribedError {
  /** The whole line for stderr, `error: <CODE>: <message>`, or '' when nothing is to be printed. */
  readonly line: string;
  readonly exitCode: number;
}

const KEY_FLAGS = /^--(api-key|admin-key|key|token)(=|$)/;

/**
 * What to print for an error and how to exit. Never a stack trace, and never any of
 * `secrets` (the keys in use), even if a message somehow carried one.
 */
export function describeError(err: unknown, secrets: readonly string[] = []): DescribedError {
  const { code, message, exitCode } = classify(err);
  if (!code) return { line: '', exitCode };
  return { line: `error: ${code}: ${redact(message, secrets)}\n`, exitCode };
}

function classify(err: unknown): { code: string; message: string; exitCode: number } {
  if (err instanceof CliError) return { code: err.code, message: err.message, exitCode: err.exitCode };
  if (err instanceof CommanderError) return fromCommander(err);
  if (err instanceof VmcpApiError) return { code: err.code, message: err.message, exitCode: EXIT_FAILED };
  if (err instanceof VmcpTimeoutError) return { code: 'DEADLINE_EXCEEDED', message: err.message, exitCode: EXIT_FAILED };
  if (err instanceof VmcpConnectionError) return { code: 'UNAVAILABLE', message: err.message, exitCode: EXIT_FAILED };
  if (err instanceof VmcpError) return { code: 'INTERNAL', message: err.message, exitCode: EXIT_FAILED };
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'INTERNAL', message, exitCode: EXIT_FAILED };
}

function fromCommander(err: CommanderError): { code: string; message: string; exitCode: number } {
  switch (err.code) {
    case 'commander.helpDisplayed':
    case 'commander.version':
      return { code: '', message: '', exitCode: EXIT_OK };
    case 'commander.help':
      // `vmcp help <cmd>` (exit code 0), or a command group run without a subcommand: its help is on stderr.
      return { code: '', message: '', exitCode: err.exitCode === 0 ? EXIT_OK : EXIT_USAGE };
    default: {
      // `--api-key=<value>` comes back whole in commander's message: never echo the value.
      let message = err.message.replace(/^error: /, '').replace(/(unknown option '--?[^'=]*)=[^']*'/, "$1=…'");
      const flag = /unknown option '([^']+)'/.exec(message)?.[1];
      if (flag && KEY_FLAGS.test(flag)) {
        // Keys given as arguments end up in shell history and process listings.
        message += ': keys are never taken from arguments; set VMCP_API_KEY / VMCP_ADMIN_KEY or run "vmcp login"';
      }
      return { code: 'USAGE', message, exitCode: EXIT_USAGE };
    }
  }
}

function redact(message: string, secrets: readonly string[]): string {
  let out = message;
  for (const s of secrets) if (s.length >= 8) out = out.split(s).join('[redacted]');
  return out;
}
