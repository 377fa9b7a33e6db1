import { chmodSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { CliError } from './errors.js';

/** Used when neither `--url`, VMCP_URL nor the profile names a gateway. */
export const DEFAULT_URL = 'http://localhost:8080';
export const DEFAULT_PROFILE = 'default';

/** One named gateway and the keys for it, as stored in the config file. */
export interface Profile {
  /** The edge's public URL. */
  readonly url?: string;
  /** A tenant API key (everything but `tenants`). */
  readonly api_key?: string;
  /** The platform admin key (`tenants`). */
  readonly admin_key?: string;
}

/** The config file: `{"profiles": {"default": {"url": "…", "api_key": "…"}}}`. */
export interface ConfigFile {
  readonly profiles: Readonly<Record<string, Profile>>;
}

type Env = Readonly<Record<string, string | undefined>>;

/** `$VMCP_CONFIG`, else `$XDG_CONFIG_HOME/vmcp/config.json`, else `~/.config/vmcp/config.json`. */
export function configPath(env: Env): string {
  if (env.VMCP_CONFIG) return env.VMCP_CONFIG;
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'vmcp', 'config.json');
}

export interface LoadedConfig {
  readonly path: string;
  readonly exists: boolean;
  readonly file: ConfigFile;
  /** Set when the file can be read by other users (it holds keys). */
  readonly warning?: string;
}

/** Reads the config file; a missing file is an empty one, a malformed one an error. */
export function loadConfig(env: Env): LoadedConfig {
  const path = configPath(env);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { path, exists: false, file: { profiles: {} } };
    throw new CliError('FAILED_PRECONDITION', `cannot read ${path}: ${(err as Error).message}`);
  }
  return { path, exists: true, file: parseConfig(text, path), warning: permissionWarning(path) };
}

function parseConfig(text: string, path: string): ConfigFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new CliError('FAILED_PRECONDITION', `${path} is not valid JSON`);
  }
  const profiles = (raw as { profiles?: unknown } | null)?.profiles ?? {};
  if (typeof raw !== 'object' || raw === null || typeof profiles !== 'object' || profiles === null || Array.isArray(profiles)) {
    throw new CliError('FAILED_PRECONDITION', `${path} must be an object like {"profiles": {"default": {"url": "…", "api_key": "…"}}}`);
  }
  const out: Record<string, Profile> = {};
  for (const [name, p] of Object.entries(profiles as Record<string, unknown>)) {
    if (typeof p !== 'object' || p === null) throw new CliError('FAILED_PRECONDITION', `${path}: profile "${name}" must be an object`);
    const fields: Record<string, string> = {};
    for (const field of ['url', 'api_key', 'admin_key'] as const) {
      const v = (p as Record<string, unknown>)[field];
      if (v === undefined) continue;
      if (typeof v !== 'string') throw new CliError('FAILED_PRECONDITION', `${path}: profile "${name}": ${field} must be a string`);
      fields[field] = v;
    }
    out[name] = fields;
  }
  return { profiles: out };
}

function permissionWarning(path: string): string | undefined {
  if (process.platform === 'win32') return undefined;
  try {
    const mode = statSync(path).mode & 0o777;
    if (mode & 0o077) {
      return `warning: ${path} holds API keys and can be read by other users (mode ${mode.toString(8)}); run: chmod 600 ${path}\n`;
    }
  } catch {
    // Vanished since it was read: nothing to warn about.
  }
  return undefined;
}

/** `--profile`, else VMCP_PROFILE, else "default". */
export function profileName(flag: string | undefined, env: Env): { name: string; explicit: boolean } {
  if (flag) return { name: flag, explicit: true };
  if (env.VMCP_PROFILE) return { name: env.VMCP_PROFILE, explicit: true };
  return { name: DEFAULT_PROFILE, explicit: false };
}

/** Which key a command needs: a tenant's API key, or the platform admin key. */
export type KeyKind = 'tenant' | 'admin';

export interface ResolveOptions {
  readonly kind: KeyKind;
  readonly urlFlag?: string;
  readonly profileFlag?: string;
  readonly env: Env;
}

export interface Resolved {
  readonly url: string;
  readonly apiKey: string;
  readonly profile: string;
  /** Lines for stderr (an over-readable config file). */
  readonly warnings: readonly string[];
}

/**
 * The gateway URL and key for one command. URL: `--url`, VMCP_URL, the profile's url,
 * then http://localhost:8080. Key: VMCP_API_KEY (VMCP_ADMIN_KEY for admin commands),
 * then the profile's api_key (admin_key). There is no key flag: keys in arguments end up
 * in shell history and process listings.
 */
export function resolveSettings(o: ResolveOptions): Resolved {
  const { name, explicit } = profileName(o.profileFlag, o.env);
  const envKey = o.kind === 'admin' ? o.env.VMCP_ADMIN_KEY : o.env.VMCP_API_KEY;
  const needFile = !envKey || !(o.urlFlag || o.env.VMCP_URL);
  const config = needFile || explicit ? loadConfig(o.env) : undefined;
  const profile = config?.file.profiles[name];
  if (explicit && config && !profile && !envKey) {
    throw new CliError('FAILED_PRECONDITION', `profile "${name}" is not in ${config.path}; run: vmcp login --profile ${name}`);
  }
  const fileKey = o.kind === 'admin' ? profile?.admin_key : profile?.api_key;
  const apiKey = envKey || fileKey;
  if (!apiKey) {
    const login = `vmcp login${o.kind === 'admin' ? ' --admin' : ''}${name !== DEFAULT_PROFILE ? ` --profile ${name}` : ''}`;
    throw new CliError(
      'UNAUTHENTICATED',
      o.kind === 'admin'
        ? `no admin key: set VMCP_ADMIN_KEY or run "${login}"`
        : `no API key: set VMCP_API_KEY or run "${login}"`,
    );
  }
  const warnings = config?.warning ? [config.warning] : [];
  return {
    url: stripSlash(o.urlFlag || o.env.VMCP_URL || profile?.url || DEFAULT_URL),
    apiKey,
    profile: name,
    warnings,
  };
}

/**
 * Merges `patch` into one profile and writes the file with mode 0600 (directory 0700),
 * through a temporary file so a crash never leaves half a file. Returns the path.
 */
export function saveProfile(env: Env, name: string, patch: Profile): string {
  const { path, file } = loadConfig(env);
  const profiles = { ...file.profiles, [name]: { ...file.profiles[name], ...patch } };
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify({ profiles }, null, 2)}\n`, { mode: 0o600 });
  // The mode given to writeFileSync is filtered by the umask; make it exact.
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
  return path;
}

function stripSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
