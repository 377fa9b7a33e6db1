import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ROUTES, SDK_VERSION, Vmcp } from './index.js';

describe('the route table', () => {
  it('names only methods the client really has, so the drift test speaks for the client', () => {
    const vmcp = new Vmcp({ baseUrl: 'http://127.0.0.1:1' }) as unknown as Record<string, Record<string, unknown>>;
    for (const name of Object.keys(ROUTES)) {
      const [resource, method] = name.split('.') as [string, string];
      expect(typeof vmcp[resource]?.[method], name).toBe('function');
    }
  });

  it('has the version of package.json in the User-Agent', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(SDK_VERSION).toBe(pkg.version);
  });
});

describe('options', () => {
  it('refuses a base URL that could not be meant', () => {
    for (const baseUrl of ['localhost:8080', 'ftp://host', 'http://user:secret@host', 'http://host/?x=1']) {
      expect(() => new Vmcp({ baseUrl }), baseUrl).toThrow(/baseUrl must be/);
    }
    expect(() => new Vmcp({ baseUrl: 'http://host', timeoutMs: 0 })).toThrow(/timeoutMs/);
    expect(() => new Vmcp({ baseUrl: 'http://host', maxRetries: -1 })).toThrow(/maxRetries/);
  });
});
