import { loadConfig } from '@vmcp/config';
import type { Logger } from '@vmcp/telemetry';
import type { Request, Response } from 'express';
import { describe, expect, it, vi } from 'vitest';
import { DnsRebindingMiddleware } from './dns-rebinding.middleware.js';

const PRODUCTION = { VMCP_PUBLIC_URL: 'https://vmcp.example.com', VMCP_ADMIN_KEY: 'x'.repeat(24) };

/** What a request with these headers gets: 'next' when it goes on, else the status and JSON-RPC error. */
function run(env: Record<string, string>, headers: Record<string, string>) {
  const logger = { warn: vi.fn() } as unknown as Logger;
  const middleware = new DnsRebindingMiddleware(loadConfig('edge', env), logger);
  let answer: { status: number; body: { jsonrpc: string; error: { code: number; message: string }; id: null } } | 'next' | undefined;
  const res = {
    status(code: number) {
      return { json: (body: never) => void (answer = { status: code, body }) };
    },
  } as unknown as Response;
  middleware.use({ headers } as Request, res, () => void (answer = 'next'));
  return answer!;
}

describe('DnsRebindingMiddleware', () => {
  it("lets requests through under VMCP_PUBLIC_URL's host name, on any port, with or without its origin", () => {
    expect(run(PRODUCTION, { host: 'vmcp.example.com' })).toBe('next');
    expect(run(PRODUCTION, { host: 'VMCP.example.com.:8443' })).toBe('next');
    expect(run(PRODUCTION, { host: 'vmcp.example.com', origin: 'https://vmcp.example.com' })).toBe('next');
    expect(run(PRODUCTION, { host: 'vmcp.example.com', origin: 'https://vmcp.example.com:443' })).toBe('next');
  });

  it('refuses a foreign Host with 403 and a JSON-RPC error, before anything else', () => {
    for (const host of ['evil.example.com', 'evil.example.com:443', 'vmcp.example.com.evil.example', 'evil.example@vmcp.example.com', 'localhost:8080', '']) {
      expect(run(PRODUCTION, { host }), host).toEqual({
        status: 403,
        body: { jsonrpc: '2.0', error: { code: -32000, message: expect.stringMatching(/^Host header not allowed/) }, id: null },
      });
    }
    expect(run(PRODUCTION, {})).toMatchObject({ status: 403 });
  });

  it('refuses a foreign Origin even under our own Host', () => {
    for (const origin of ['https://evil.example.com', 'http://vmcp.example.com', 'https://vmcp.example.com:8443', 'null', 'file://', 'not a url']) {
      expect(run(PRODUCTION, { host: 'vmcp.example.com', origin }), origin).toMatchObject({
        status: 403,
        body: { error: { code: -32000, message: expect.stringMatching(/^Origin header not allowed/) } },
      });
    }
  });

  it('accepts the names and origins an operator added', () => {
    const env = { ...PRODUCTION, VMCP_ALLOWED_HOSTS: 'vmcp-edge.vmcp.svc,10.0.0.7', VMCP_ALLOWED_ORIGINS: 'https://app.example.com' };
    expect(run(env, { host: 'vmcp-edge.vmcp.svc:8080' })).toBe('next');
    expect(run(env, { host: '10.0.0.7' })).toBe('next');
    expect(run(env, { host: 'vmcp.example.com', origin: 'https://app.example.com' })).toBe('next');
    expect(run(env, { host: 'vmcp-edge.vmcp.svc', origin: 'https://app.example.com.evil.example' })).toMatchObject({ status: 403 });
    expect(run(env, { host: '10.0.0.8' })).toMatchObject({ status: 403 });
  });

  it('treats every loopback name alike when the gateway itself is on loopback (development)', () => {
    const dev = { VMCP_PUBLIC_URL: 'http://127.0.0.1:8080', VMCP_ADMIN_KEY: 'x'.repeat(24) };
    for (const host of ['127.0.0.1:8080', 'localhost:8080', '[::1]:9000', 'localhost']) {
      expect(run(dev, { host, origin: `http://${host}` }), host).toBe('next');
    }
    // The rebinding attack itself: the attacker's name, resolving to 127.0.0.1.
    expect(run(dev, { host: 'evil.example.com:8080', origin: 'http://evil.example.com:8080' })).toMatchObject({ status: 403 });
    expect(run(dev, { host: '127.0.0.1:8080', origin: 'http://evil.example.com' })).toMatchObject({ status: 403 });
    expect(run(dev, { host: '[::1', origin: 'http://[::1]' })).toMatchObject({ status: 403 });
  });
});
