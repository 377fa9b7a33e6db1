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
