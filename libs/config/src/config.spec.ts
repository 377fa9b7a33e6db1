import { randomBytes } from 'node:crypto';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
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

  it('creates JetStream streams and buckets with one replica unless told, 1 to 5', () => {
    expect(loadConfig('policy', {}).jetstreamReplicas).toBe(1);
    expect(loadConfig('policy', { VMCP_JETSTREAM_REPLICAS: '3' }).jetstreamReplicas).toBe(3);
    for (const wrong of ['0', '6', '2.5', 'three']) {
      expect(() => loadConfig('policy', { VMCP_JETSTREAM_REPLICAS: wrong }), wrong).toThrow(/VMCP_JETSTREAM_REPLICAS/);
    }
  });

  it('keeps AUDIT stream events 7 days unless told, 1 hour to a year', () => {
    expect(loadConfig('audit', { VMCP_DATA_DIR: dir() }).auditStreamMaxAgeMs).toBe(168 * 3_600_000);
    expect(loadConfig('audit', { VMCP_DATA_DIR: dir(), VMCP_AUDIT_STREAM_MAX_AGE_HOURS: '24' }).auditStreamMaxAgeMs).toBe(24 * 3_600_000);
    for (const wrong of ['0', '8761', '1.5', 'week']) {
      expect(() => loadConfig('audit', { VMCP_DATA_DIR: dir(), VMCP_AUDIT_STREAM_MAX_AGE_HOURS: wrong }), wrong).toThrow(/VMCP_AUDIT_STREAM_MAX_AGE_HOURS/);
    }
  });

  it('names the event-interest bucket vmcp_event_interest unless told, and refuses a name NATS would not take', () => {
    expect(loadConfig('audit', { VMCP_DATA_DIR: dir() }).eventInterestBucket).toBe('vmcp_event_interest');
    expect(loadConfig('policy', { VMCP_DATA_DIR: dir(), VMCP_EVENT_INTEREST_BUCKET: 'interest_2' }).eventInterestBucket).toBe('interest_2');
    for (const wrong of ['', 'has.dot', 'has space', 'x'.repeat(65), 'wild*']) {
      expect(() => loadConfig('audit', { VMCP_DATA_DIR: dir(), VMCP_EVENT_INTEREST_BUCKET: wrong }), wrong).toThrow(/VMCP_EVENT_INTEREST_BUCKET/);
    }
  });

  it('bounds the shutdown drain by a whole tool call for the edge and the executor, one bus timeout for the others', () => {
    const env = { VMCP_TOOL_TIMEOUT_MS: '20000', VMCP_BUS_TIMEOUT_MS: '3000' };
    expect(loadConfig('executor', env).drainTimeoutMs).toBe(23_000);
    expect(loadConfig('edge', { ...env, VMCP_DATA_DIR: dir() }).drainTimeoutMs).toBe(23_000);
    for (const service of ['policy', 'vault', 'audit'] as const) {
      expect(loadConfig(service, { ...env, VMCP_DATA_DIR: dir() }).drainTimeoutMs, service).toBe(3000);
    }
  });

  describe('hosts and origins the MCP endpoint accepts', () => {
    it("starts from VMCP_PUBLIC_URL's host name and origin", () => {
      const c = loadConfig('edge', { VMCP_DATA_DIR: dir(), VMCP_PUBLIC_URL: 'https://VMCP.Example.com:443/' });
      expect(c.allowedHosts).toEqual(['vmcp.example.com']);
      expect(c.allowedOrigins).toEqual(['https://vmcp.example.com']);
    });

    it('adds VMCP_ALLOWED_HOSTS and VMCP_ALLOWED_ORIGINS, normalised, without repeats', () => {
      const c = loadConfig('edge', {
        VMCP_DATA_DIR: dir(),
        VMCP_PUBLIC_URL: 'https://vmcp.example.com',
        VMCP_ALLOWED_HOSTS: ' vmcp-edge.vmcp.svc.cluster.local, Internal.Example., [::1],,vmcp.example.com ',
        VMCP_ALLOWED_ORIGINS: 'https://App.example.com/, http://localhost:6274,https://vmcp.example.com:443',
      });
      expect(c.allowedHosts).toEqual(['vmcp.example.com', 'vmcp-edge.vmcp.svc.cluster.local', 'internal.example', '[::1]']);
      expect(c.allowedOrigins).toEqual(['https://vmcp.example.com', 'https://app.example.com', 'http://localhost:6274']);
      expect(Object.isFrozen(c.allowedHosts) && Object.isFrozen(c.allowedOrigins)).toBe(true);
    });

    it('refuses entries that are not a bare host name or an origin, naming the entry', () => {
      for (const host of ['vmcp.internal:8080', 'https://vmcp.internal', '::1', 'vmcp.internal/mcp', 'user@vmcp.internal']) {
        expect(() => loadConfig('edge', { VMCP_ALLOWED_HOSTS: `ok.example,${host}` }), host).toThrow(/^VMCP_ALLOWED_HOSTS \(entry 2\): must be a host name/);
      }
      for (const origin of ['app.example.com', 'https://app.example.com/path', 'ftp://app.example.com', 'https://u:p@app.example.com', 'null']) {
        expect(() => loadConfig('edge', { VMCP_ALLOWED_ORIGINS: origin }), origin).toThrow(/^VMCP_ALLOWED_ORIGINS \(entry 1\): must be an origin/);
      }
    });
  });

  describe('master keys of the vault', () => {
    const key = () => randomBytes(32);
    const b64 = (k: Buffer) => k.toString('base64');

    it('reads the key from VMCP_MASTER_KEY_FILE (a mounted secret, trailing newline and all)', () => {
      const current = key();
      const file = join(dir(), 'master-key');
      writeFileSync(file, `${b64(current)}\n`);
      const c = loadConfig('vault', { VMCP_DATA_DIR: dir(), NODE_ENV: 'production', VMCP_MASTER_KEY_FILE: file });
      expect(c.masterKey.equals(current)).toBe(true);
      expect(c.previousMasterKeys).toEqual([]);
    });

    it('keeps retired keys from VMCP_MASTER_KEY_PREVIOUS, without repeats or the current key', () => {
      const [current, old1, old2] = [key(), key(), key()];
      const c = loadConfig('vault', {
        VMCP_MASTER_KEY: b64(current),
        VMCP_MASTER_KEY_PREVIOUS: ` ${b64(old1)}, ${b64(old2)},,${b64(old1)},${b64(current)} `,
      });
      expect(c.previousMasterKeys.map(b64)).toEqual([b64(old1), b64(old2)]);
      expect(Object.isFrozen(c.previousMasterKeys)).toBe(true);
      expect(loadConfig('edge', { VMCP_DATA_DIR: dir(), VMCP_MASTER_KEY_PREVIOUS: b64(old1) }).previousMasterKeys).toEqual([]);
    });

    it('names the variable, never the value, when a key is wrong', () => {
      const secretish = 'c2VjcmV0LWJ1dC10b28tc2hvcnQ=';
      const file = join(dir(), 'short-key');
      writeFileSync(file, secretish);
      const cases: Array<[Record<string, string>, RegExp]> = [
        [{ VMCP_MASTER_KEY_FILE: file }, /^VMCP_MASTER_KEY_FILE: must be 32 bytes/],
        [{ VMCP_MASTER_KEY_FILE: join(dir(), 'missing') }, /^VMCP_MASTER_KEY_FILE: cannot read .*missing \(ENOENT\)/],
        [{ VMCP_MASTER_KEY_FILE: file, VMCP_MASTER_KEY: b64(key()) }, /^VMCP_MASTER_KEY_FILE: set either it or VMCP_MASTER_KEY/],
        [{ VMCP_MASTER_KEY: b64(key()), VMCP_MASTER_KEY_PREVIOUS: `${b64(key())},${secretish}` }, /^VMCP_MASTER_KEY_PREVIOUS \(entry 2\): must be 32 bytes/],
        [{ VMCP_MASTER_KEY: b64(key()), VMCP_MASTER_KEY_PREVIOUS: 'not base64!' }, /^VMCP_MASTER_KEY_PREVIOUS \(entry 1\)/],
      ];
      for (const [env, message] of cases) {
        const err = (() => {
          try {
            loadConfig('vault', { VMCP_DATA_DIR: dir(), ...env });
          } catch (e) {
            return e as Error;
          }
          throw new Error('expected a ConfigError');
        })();
        expect(err).toBeInstanceOf(ConfigError);
        expect(err.message).toMatch(message);
        expect(err.message).not.toContain(secretish);
      }
    });
  });
});
