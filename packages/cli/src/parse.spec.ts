import { describe, expect, it } from 'vitest';
import { CliError } from './errors.js';
import { applySettings, parseDuration, parseParams, parsePositiveInt, parseTime, parseToolMappings } from './parse.js';

function usage(fn: () => unknown): CliError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CliError);
    expect(err).toMatchObject({ code: 'USAGE', exitCode: 2 });
    return err as CliError;
  }
  throw new Error('expected a usage error');
}

describe('parseDuration', () => {
  it('reads ms, s, m, h, d and sequences of them', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('2s')).toBe(2000);
    expect(parseDuration('15m')).toBe(900_000);
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(parseDuration('1d')).toBe(86_400_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('1.5s')).toBe(1500);
  });

  it('rejects anything else as a usage error', () => {
    for (const bad of ['', '15', 'm', '15 minutes', '2w', '-1s', '1s garbage']) {
      expect(usage(() => parseDuration(bad, '--interval')).message).toMatch(/^--interval: expected a duration/);
    }
  });
});

describe('parseTime', () => {
  const now = Date.parse('2025-06-01T12:00:00Z');

  it('takes RFC 3339 times and returns them in UTC', () => {
    expect(parseTime('2025-05-31T10:00:00Z', now, '--since')).toBe('2025-05-31T10:00:00.000Z');
    expect(parseTime('2025-05-31T12:00:00+02:00', now, '--since')).toBe('2025-05-31T10:00:00.000Z');
    expect(parseTime('2025-05-31', now, '--since')).toBe('2025-05-31T00:00:00.000Z');
  });

  it('takes a duration as that long before now', () => {
    expect(parseTime('15m', now, '--since')).toBe('2025-06-01T11:45:00.000Z');
    expect(parseTime('1d', now, '--until')).toBe('2025-05-31T12:00:00.000Z');
  });

  it('rejects other text, naming both forms', () => {
    expect(usage(() => parseTime('yesterday', now, '--since')).message).toMatch(/--since: expected an RFC 3339 time .* or a duration like 15m/);
    usage(() => parseTime('2025-13-45T99:00:00Z', now, '--since'));
  });
});

describe('parseParams', () => {
  it('takes a JSON object', () => {
    expect(parseParams('{"text": "hi", "n": 2}')).toEqual({ text: 'hi', n: 2 });
  });

  it('rejects malformed JSON and non-objects without echoing the input', () => {
    const bad = usage(() => parseParams('{"password": "hunter2"'));
    expect(bad.message).toMatch(/^--params is not valid JSON/);
    expect(bad.message).not.toContain('hunter2');
    expect(usage(() => parseParams('[1, 2]')).message).toMatch(/must be a JSON object/);
    expect(usage(() => parseParams('null', '--params-file')).message).toMatch(/^--params-file must be a JSON object/);
  });
});

describe('parsePositiveInt', () => {
  it('takes whole numbers from 1', () => {
    expect(parsePositiveInt('300', '--expiry')).toBe(300);
    for (const bad of ['0', '-1', '1.5', 'ten', '']) usage(() => parsePositiveInt(bad, '--limit'));
  });
});

describe('applySettings', () => {
  it('sets strings, JSON values with :=, nests on dots, in order over the base', () => {
    expect(
      applySettings({ url: 'http://old', oauth: { client_id: 'a' } }, [
        'url=http://new',
        'timeout_ms:=5000',
        'oauth.scopes:=["repo","read:org"]',
        'header_name=X-Key=1',
      ]),
    ).toEqual({ url: 'http://new', timeout_ms: 5000, oauth: { client_id: 'a', scopes: ['repo', 'read:org'] }, header_name: 'X-Key=1' });
  });

  it('rejects pairs without a key or with bad JSON', () => {
    usage(() => applySettings({}, ['=x']));
    usage(() => applySettings({}, ['novalue']));
    usage(() => applySettings({}, ['a..b=1']));
    usage(() => applySettings({}, ['n:={bad']));
  });
});

describe('parseToolMappings', () => {
  it('turns --tools values into connection_tool_mappings, merging a connection named twice', () => {
    expect(parseToolMappings(['github:list_issues,create_issue', 'docs:*', 'github:create_issue, search'])).toEqual([
      { connection_name: 'github', tools: ['list_issues', 'create_issue', 'search'] },
      { connection_name: 'docs', tools: ['*'] },
    ]);
  });

  it('requires at least one, each with a connection and tools', () => {
    usage(() => parseToolMappings([]));
    for (const bad of ['github', ':echo', 'github:', 'github:,']) usage(() => parseToolMappings([bad]));
  });
});
