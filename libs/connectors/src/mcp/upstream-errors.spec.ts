import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { VmcpError } from '@vmcp/contracts';
import { describe, expect, it } from 'vitest';
import { StoppedError } from '../shared/deadline.js';
import { classifyFailure, MalformedAnswerError, sanitizeUpstreamText, sessionIsBroken, shouldRetry, toVmcpError } from './upstream-errors.js';

const fetchFailed = (code: string) => new TypeError('fetch failed', { cause: Object.assign(new Error(code), { code }) });

describe('classifyFailure', () => {
  it('tells apart what the upstream said from what never reached it', () => {
    expect(classifyFailure(new StreamableHTTPError(404, 'Error POSTing to endpoint: {"secret":"body"}'))).toEqual({ kind: 'http', status: 404 });
    expect(classifyFailure(new StreamableHTTPError(-1, 'Unexpected content type'))).toEqual({ kind: 'malformed' });
    expect(classifyFailure(fetchFailed('ECONNREFUSED'))).toEqual({ kind: 'unreachable', sent: false });
    expect(classifyFailure(fetchFailed('ECONNRESET'))).toEqual({ kind: 'unreachable', sent: true });
    const happyEyeballs = new TypeError('fetch failed', { cause: Object.assign(new AggregateError([Object.assign(new Error('x'), { code: 'ECONNREFUSED' })]), {}) });
    expect(classifyFailure(happyEyeballs)).toEqual({ kind: 'unreachable', sent: false });
    expect(classifyFailure(new Error('Not connected'))).toEqual({ kind: 'unreachable', sent: false });
    expect(classifyFailure(new McpError(ErrorCode.ConnectionClosed, 'Connection closed'))).toEqual({ kind: 'unreachable', sent: true });
    expect(classifyFailure(new McpError(ErrorCode.InvalidParams, 'Unknown tool: x'))).toEqual({ kind: 'rpc', code: -32602, message: 'MCP error -32602: Unknown tool: x' });
    expect(classifyFailure(new StoppedError('deadline'))).toEqual({ kind: 'deadline' });
    expect(classifyFailure(new MalformedAnswerError('tools/call result'))).toEqual({ kind: 'malformed' });
    expect(classifyFailure(new VmcpError('NOT_FOUND', 'gone'))).toMatchObject({ kind: 'vmcp' });
    expect(classifyFailure('weird')).toEqual({ kind: 'unknown' });
  });
});

describe('retry rules', () => {
  it('retries a call only when the upstream cannot have run it; a listing whenever the session broke', () => {
    const expired = { kind: 'http', status: 404 } as const;
    const refused = { kind: 'http', status: 401 } as const;
    const notSent = { kind: 'unreachable', sent: false } as const;
    const maybeSent = { kind: 'unreachable', sent: true } as const;
    for (const op of ['list', 'call'] as const) {
      expect(shouldRetry(op, expired)).toBe(true);
      expect(shouldRetry(op, refused)).toBe(true);
      expect(shouldRetry(op, notSent)).toBe(true);
      expect(shouldRetry(op, { kind: 'http', status: 500 })).toBe(false);
      expect(shouldRetry(op, { kind: 'deadline' })).toBe(false);
      expect(shouldRetry(op, { kind: 'rpc', code: -32603, message: 'x' })).toBe(false);
    }
    expect(shouldRetry('list', maybeSent)).toBe(true);
    expect(shouldRetry('call', maybeSent)).toBe(false);
    expect(sessionIsBroken(expired) && sessionIsBroken(maybeSent) && sessionIsBroken({ kind: 'http', status: 403 })).toBe(true);
    expect(sessionIsBroken({ kind: 'deadline' }) || sessionIsBroken({ kind: 'http', status: 500 })).toBe(false);
  });
});

describe('sanitizeUpstreamText', () => {
  it('removes every form of a credential, flattens and bounds the text', () => {
    const secrets = ['Bearer s3cr3t/t0ken', 's3cr3t/t0ken'];
    expect(sanitizeUpstreamText('bad token s3cr3t/t0ken or s3cr3t%2Ft0ken\n\tnext\u0000line', secrets)).toBe('bad token [redacted] or [redacted] next line');
    expect(sanitizeUpstreamText('x'.repeat(1000), [])).toHaveLength(301);
  });

  it('gives nothing back when a credential is too short to redact safely', () => {
    expect(sanitizeUpstreamText('password abc rejected', ['abc'])).toBeUndefined();
  });
});

describe('toVmcpError', () => {
  it('maps each failure to its stable code, naming only the connection', () => {
    const code = (f: Parameters<typeof toVmcpError>[0]) => toVmcpError(f, 'crm', []).code;
    expect(code({ kind: 'deadline' })).toBe('DEADLINE_EXCEEDED');
    expect(code({ kind: 'unreachable', sent: false })).toBe('UNAVAILABLE');
    expect(code({ kind: 'http', status: 503 })).toBe('UNAVAILABLE');
    expect(code({ kind: 'http', status: 401 })).toBe('UPSTREAM_ERROR');
    expect(code({ kind: 'http', status: 500 })).toBe('UPSTREAM_ERROR');
    expect(code({ kind: 'rpc', code: -32602, message: 'x' })).toBe('UPSTREAM_ERROR');
    expect(code({ kind: 'malformed' })).toBe('UPSTREAM_ERROR');
    expect(code({ kind: 'vmcp', error: new VmcpError('NOT_FOUND', 'gone') })).toBe('NOT_FOUND');
    expect(toVmcpError({ kind: 'unreachable', sent: true }, 'crm', []).message).toBe('upstream of connection "crm" is unavailable');
    expect(toVmcpError({ kind: 'rpc', code: -32603, message: 'key=k3y-v4lue-9 denied' }, 'crm', ['k3y-v4lue-9']).message).toBe(
      'upstream of connection "crm" returned an error: key=[redacted] denied',
    );
    expect(toVmcpError({ kind: 'rpc', code: -32603, message: 'pw abc denied' }, 'crm', ['abc']).message).toBe('upstream of connection "crm" returned error -32603');
  });
});

describe('progressOf', () => {
  it('passes the numbers on and keeps credentials out of the message', async () => {
    const { progressOf } = await import('./mcp-upstream-session.js');
    expect(progressOf({ progress: 1, total: 4, message: 'fetching\npage 1' }, ['secret-token-123'])).toEqual({ progress: 1, total: 4, message: 'fetching page 1' });
    expect(progressOf({ progress: 2, message: 'using secret-token-123 now' }, ['secret-token-123'])).toEqual({ progress: 2, message: 'using [redacted] now' });
    // A secret too short to redact safely: the message is dropped, the numbers stay.
    expect(progressOf({ progress: 3, message: 'abc' }, ['abc'])).toEqual({ progress: 3 });
  });
});
