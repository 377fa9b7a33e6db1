import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

const dir = () => mkdtempSync(join(tmpdir(), 'vmcp-config-'));

describe('loadConfig', () => {
  it('applies the documented defaults and freezes the result', () => {
    const c = loadConfig('edge', { VMCP_DATA_DIR: dir() });
    expect(c).toMatchObject({ nats: { url: 'nats://127.0.0.1:4222' }, http: { port: 8080 }, publicUrl: 'http://127.0.0.1:8080', database: { kind: 'sqlite' } });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('names the variable that is wrong', () => {
    expect(() => loadConfig('edge', { VMCP_HTTP_PORT: 'eighty' })).toThrow(/VMCP_HTTP_PORT/);
    expect(() => loadConfig('vault', { VMCP_MASTER_KEY: 'short' })).toThrow(/VMCP_MASTER_KEY/);
    expect(() => loadConfig('policy', { DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL/);
    expect(() => loadConfig('policy', { VMCP_PUBLIC_URL: 'ftp://x' })).toThrow(ConfigError);
  });

  it('generates dev keys once, readable only by the owner, and refuses to in production', () => {
    const d = dir();
    const a = loadConfig('vault', { VMCP_DATA_DIR: d });
    const b = loadConfig('vault', { VMCP_DATA_DIR: d });
    expect(a.masterKey.equals(b.masterKey)).toBe(true);
    expect(statSync(join(d, 'master.key')).mode & 0o777).toBe(0o600);
    expect(() => loadConfig('vault', { VMCP_DATA_DIR: dir(), NODE_ENV: 'production' })).toThrow(/VMCP_MASTER_KEY is required/);
    expect(() => loadConfig('edge', { VMCP_DATA_DIR: dir(), NODE_ENV: 'production' })).toThrow(/VMCP_ADMIN_KEY is required/);
  });

  it('gives each service its own PostgreSQL schema', () => {
    const c = loadConfig('audit', { DATABASE_URL: 'postgres://u@h/db', VMCP_DB_SCHEMA_PREFIX: 'acme' });
    expect(c.database).toEqual({ kind: 'postgres', url: 'postgres://u@h/db', schema: 'acme_audit' });
  });
});
