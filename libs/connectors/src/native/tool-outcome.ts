import { isVmcpError, VmcpError, type CallToolResult } from '@vmcp/contracts';
import {
  CredentialRefusedError,
  ProviderAnswerError,
  ProviderError,
  ProviderUnreachableError,
  ResponseTooLargeError,
  ToolError,
} from '../http/provider-errors.js';
import { OffApiLinkError, PathParameterError } from '../http/url.js';
import { StoppedError } from '../shared/deadline.js';
import type { AnyNativeTool } from './native-connector.definition.js';

/** A tool's return value as an MCP CallToolResult. */
export function toToolResult(tool: AnyNativeTool, value: unknown): CallToolResult {
  if (tool.outputSchema) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new VmcpError('INTERNAL', `tool ${tool.name} returned no structured result`);
    }
    return { content: [{ type: 'text', text: JSON.stringify(value) }], structuredContent: value as Record<string, unknown> };
  }
  return { content: [{ type: 'text', text: typeof value === 'string' ? value : JSON.stringify(value ?? null) }] };
}

function errorResult(text: string): CallToolResult {
  return { content: [{ type: 'text', text }], isError: true };
}

export interface FailureContext {
  /** "GitHub" */
  readonly provider: string;
  readonly connectionName: string;
  readonly authType: string;
  readonly tool: AnyNativeTool;
  readonly maxResponseBytes: number;
}

/**
 * What a failed call becomes. What the model can act on (the provider refused the request:
 * 4xx, a bad argument, a too-large answer) is a tool result with `isError`; what it cannot
 * (the provider down, the deadline, a refused credential) is a VmcpError with a stable code.
 * No message carries a credential, a URL or a stack trace.
 */
export function failureOutcome(err: unknown, c: FailureContext): CallToolResult {
  const where = `${c.provider} (connection "${c.connectionName}")`;
  if (isVmcpError(err)) throw err;
  if (err instanceof ToolError) return errorResult(err.message);
  if (err instanceof PathParameterError) return errorResult(`Invalid argument: ${err.message}`);
  if (err instanceof ProviderError) {
    const said = err.providerMessage ? `: ${err.providerMessage}` : '';
    if (err.status >= 200 && err.status < 300) return errorResult(`${c.provider} returned an error${said}`);
    if (err.status >= 400 && err.status < 500) {
      const wait = err.retryAfterMs !== undefined ? ` (retry after ${Math.ceil(err.retryAfterMs / 1000)} s)` : '';
      return errorResult(`${c.provider} answered HTTP ${err.status}${said}${wait}`);
    }
    if (err.status >= 500) throw new VmcpError('UNAVAILABLE', `${where} is unavailable (HTTP ${err.status})`);
    throw new VmcpError('UPSTREAM_ERROR', `${where} answered HTTP ${err.status}`);
  }
  if (err instanceof ResponseTooLargeError) {
    const mib = Math.round((c.maxResponseBytes / (1024 * 1024)) * 10) / 10;
    return errorResult(`${c.provider}'s answer is larger than ${mib} MiB; ask for less (fewer results per page, a narrower query)`);
  }
  if (err instanceof CredentialRefusedError) {
    if (c.authType === 'oauth2') {
      throw new VmcpError('ACCOUNT_NOT_ACTIVE', `${where} refused the connected account's access token${err.refreshed ? ' even after a refresh' : ''}; the user must authorize the connection again`);
    }
    throw new VmcpError('ACCOUNT_NOT_ACTIVE', `${where} refused the connected account's credential (HTTP 401); store a valid one for this user`);
  }
  if (err instanceof ProviderUnreachableError) {
    throw new VmcpError('UNAVAILABLE', err.reason === 'timeout' ? `${where} did not answer in time` : `${where} is unreachable`);
  }
  if (err instanceof ProviderAnswerError) {
    throw new VmcpError('UPSTREAM_ERROR', err.reason === 'redirect' ? `${where} redirected the request outside its API` : `${where} sent a malformed answer`);
  }
  if (err instanceof OffApiLinkError) throw new VmcpError('UPSTREAM_ERROR', `${where} sent a link outside its API`);
  if (err instanceof StoppedError) {
    if (err.reason === 'deadline') throw new VmcpError('DEADLINE_EXCEEDED', `${where} did not answer in time`);
    throw new VmcpError('CANCELLED', `the call to ${where} was cancelled`);
  }
  // A bug in a tool: its message could hold anything, so it stays here.
  throw new VmcpError('INTERNAL', `tool ${c.tool.name} of connection "${c.connectionName}" failed`);
}
