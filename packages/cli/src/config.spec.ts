import { chmodSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configPath, loadConfig, resolveSettings, saveProfile } from './config.js';
import { CliError } from './errors.js';

function home(): string {
  return mkdtempSync(join(tmpdir(), 'vmcp-config-'));
}

function writeConfig(path: string, content: unknown, mode = 0o600): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, JSON.stringify(content));
  chmodSync(path, mode);
}

const file = {
  profiles: {
    default: { url: 'http://default.example:8080/', api_key: 'file-default-key-123', admin_key: 'file-admin-key-123' },
    staging: { url: 'https://staging.example', api_key: 'file-staging-key-123' },
  },
};

describe('config file location', () => {
  it('is $VMCP_CONFIG, else $XDG_CONFIG_HOME/vmcp/config.json, else ~/.config/vmcp/config.json', () => {
    expect(configPath({ VMCP_CONFIG: '/etc/vmcp.json', XDG_CONFIG_HOME: '/x', HOME: '/h' })).toBe('/etc/vmcp.json');
    expect(configPath({ XDG_CONFIG_HOME: '/x', HOME: '/h' })).toBe('/x/vmcp/config.json');
    expect(configPath({ HOME: '/h' })).toBe('/h/.config/vmcp/config.json');
  });
});

describe('key and URL resolution', () => {
  it('takes the environment over the config file', () => {
    const h = home();
    writeConfig(join(h, '.config/vmcp/config.json'), file);
    const r = resolveSettings({ kind: 'tenant', env: { HOME: h, VMCP_API_KEY: 'env-key-123456', VMCP_URL: 'http://env.example' } });
    expect(r).toMatchObject({ apiKey: 'env-key-123456', url: 'http://env.example' });
  });

  it('falls back to the default profile, and --url beats everything', () => {
    const h = home();
    writeConfig(join(h, '.config/vmcp/config.json'), file);
    expect(resolveSettings({ kind: 'tenant', env: { HOME: h } })).toMatchObject({ apiKey: 'file-default-key-123', url: 'http://default.example:8080' });
    expect(resolveSettings({ kind: 'tenant', urlFlag: 'http://flag.example', env: { HOME: h, VMCP_URL: 'http://env.example' } }).url).toBe('http://flag.example');
  });

  it('picks the profile from --profile, else VMCP_PROFILE, else "default"', () => {
    const h = home();
    writeConfig(join(h, '.config/vmcp/config.json'), file);
    expect(resolveSettings({ kind: 'tenant', profileFlag: 'staging', env: { HOME: h, VMCP_PROFILE: 'default' } })).toMatchObject({
      apiKey: 'file-staging-key-123',
      url: 'https://staging.example',
      profile: 'staging',
    });
    expect(resolveSettings({ kind: 'tenant', env: { HOME: h, VMCP_PROFILE: 'staging' } }).apiKey).toBe('file-staging-key-123');
  });

  it('uses the admin key for admin commands, from VMCP_ADMIN_KEY first', () => {
    const h = home();
    writeConfig(join(h, '.config/vmcp/config.json'), file);
    expect(resolveSettings({ kind: 'admin', env: { HOME: h } }).apiKey).toBe('file-admin-key-123');
    expect(resolveSettings({ kind: 'admin', env: { HOME: h, VMCP_ADMIN_KEY: 'env-admin-key-1', VMCP_API_KEY: 'env-tenant-key' } }).apiKey).toBe('env-admin-key-1');
    // The tenant key never stands in for the admin key.
    expect(() => resolveSettings({ kind: 'admin', profileFlag: 'staging', env: { HOME: h } })).toThrow(/no admin key: set VMCP_ADMIN_KEY/);
  });

  it('fails clearly without a key, naming the variable and the login command', () => {
    const err = catchError(() => resolveSettings({ kind: 'tenant', env: { HOME: home() } }));
    expect(err).toBeInstanceOf(CliError);
    expect(err).toMatchObject({ code: 'UNAUTHENTICATED', exitCode: 1 });
    expect(err.message).toBe('no API key: set VMCP_API_KEY or run "vmcp login"');
  });

  it('rejects a profile that is not in the file', () => {
    const h = home();
    writeConfig(join(h, '.config/vmcp/config.json'), file);
    expect(() => resolveSettings({ kind: 'tenant', profileFlag: 'prod', env: { HOME: h } })).toThrow(/profile "prod" is not in .*vmcp login --profile prod/);
  });

  it('defaults to http://localhost:8080', () => {
    expect(resolveSettings({ kind: 'tenant', env: { HOME: home(), VMCP_API_KEY: 'k-123456789' } }).url).toBe('http://localhost:8080');
  });

  it('warns when the file can be read by other users, and not when it is 0600', () => {
    const h = home();
    const path = join(h, '.config/vmcp/config.json');
    writeConfig(path, file, 0o644);
    expect(resolveSettings({ kind: 'tenant', env: { HOME: h } }).warnings).toEqual([expect.stringMatching(/can be read by other users \(mode 644\); run: chmod 600/)]);
    chmodSync(path, 0o600);
    expect(resolveSettings({ kind: 'tenant', env: { HOME: h } }).warnings).toEqual([]);
  });

  it('reports a malformed file instead of ignoring it', () => {
    const h = home();
    const path = join(h, '.config/vmcp/config.json');
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, '{"profiles": ');
    expect(() => loadConfig({ HOME: h })).toThrow(/config.json is not valid JSON/);
    writeFileSync(path, '{"profiles": {"default": {"api_key": 42}}}');
    expect(() => loadConfig({ HOME: h })).toThrow(/api_key must be a string/);
  });
});

describe('saveProfile', () => {
  it('writes the file with mode 0600 in a 0700 directory and keeps the other profiles', () => {
    const h = home();
    const env = { HOME: h };
    const path = saveProfile(env, 'default', { url: 'http://a.example', api_key: 'key-one-123456' });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(path, '..')).mode & 0o777).toBe(0o700);
    saveProfile(env, 'staging', { api_key: 'key-two-123456' });
    saveProfile(env, 'default', { admin_key: 'admin-key-123456' });
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({
      profiles: {
        default: { url: 'http://a.example', api_key: 'key-one-123456', admin_key: 'admin-key-123456' },
        staging: { api_key: 'key-two-123456' },
      },
    });
  });

  it('tightens an existing over-readable file to 0600', () => {
    const h = home();
    const path = join(h, '.config/vmcp/config.json');
    writeConfig(path, file, 0o644);
    saveProfile({ HOME: h }, 'default', { api_key: 'new-key-1234567' });
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });
});

function catchError(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error');
}
