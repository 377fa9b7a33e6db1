import { VmcpApiError, VmcpConnectionError, VmcpTimeoutError } from '@vmcp/sdk';
import { CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { CliError, describeError, usageError } from './errors.js';

describe('describeError', () => {
  it('prints an API error as "error: <CODE>: <message>" with exit code 1 and no stack', () => {
    const d = describeError(new VmcpApiError(404, 'NOT_FOUND', 'GET /api/v1/connections/nope: connection "nope" not found'));
    expect(d).toEqual({ line: 'error: NOT_FOUND: GET /api/v1/connections/nope: connection "nope" not found\n', exitCode: 1 });
    expect(d.line).not.toMatch(/\n\s+at /);
  });

  it('names unreachable and slow gateways with the API codes', () => {
    expect(describeError(new VmcpConnectionError('GET /api/v1/tenants: could not reach http://localhost:8080')).line).toBe(
      'error: UNAVAILABLE: GET /api/v1/tenants: could not reach http://localhost:8080\n',
    );
    expect(describeError(new VmcpTimeoutError('no reply within 30000 ms')).line).toBe('error: DEADLINE_EXCEEDED: no reply within 30000 ms\n');
  });

  it('gives usage errors exit code 2', () => {
    expect(describeError(usageError('give exactly one of --config or --connection'))).toEqual({
      line: 'error: USAGE: give exactly one of --config or --connection\n',
      exitCode: 2,
    });
    expect(describeError(new CommanderError(1, 'commander.missingMandatoryOptionValue', "error: required option '--identifier <id>' not specified"))).toEqual({
      line: "error: USAGE: required option '--identifier <id>' not specified\n",
      exitCode: 2,
    });
  });

  it('explains that keys are not taken as flags, without echoing the value', () => {
    const d = describeError(new CommanderError(1, 'commander.unknownOption', "error: unknown option '--api-key=vmcp_sk_live_secret'"));
    expect(d.exitCode).toBe(2);
    expect(d.line).toContain("error: USAGE: unknown option '--api-key=…'");
    expect(d.line).toContain('keys are never taken from arguments');
    expect(d.line).not.toContain('vmcp_sk_live_secret');
  });

  it('prints nothing for --help and --version', () => {
    expect(describeError(new CommanderError(0, 'commander.helpDisplayed', '(outputHelp)'))).toEqual({ line: '', exitCode: 0 });
    expect(describeError(new CommanderError(0, 'commander.version', '0.1.0'))).toEqual({ line: '', exitCode: 0 });
    expect(describeError(new CommanderError(0, 'commander.help', '(outputHelp)'))).toEqual({ line: '', exitCode: 0 });
    expect(describeError(new CommanderError(1, 'commander.help', '(outputHelp)'))).toEqual({ line: '', exitCode: 2 });
  });

  it('never prints a key in use, whatever carried it', () => {
    const key = 'vmcp_sk_0123456789abcdef';
    expect(describeError(new CliError('UNAUTHENTICATED', `key ${key} rejected`), [key]).line).toBe('error: UNAUTHENTICATED: key [redacted] rejected\n');
  });

  it('reports a bug as INTERNAL with its message only', () => {
    const d = describeError(new TypeError("Cannot read properties of undefined (reading 'id')"));
    expect(d).toEqual({ line: "error: INTERNAL: Cannot read properties of undefined (reading 'id')\n", exitCode: 1 });
  });
});
