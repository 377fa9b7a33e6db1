import { describe, expect, it } from 'vitest';
import { pageNumberOf, parseLinkHeader } from './link-header.js';

describe('parseLinkHeader', () => {
  it('reads GitHub\'s pagination links', () => {
    const links = parseLinkHeader(
      '<https://api.github.com/repositories/1300192/issues?page=2>; rel="prev", <https://api.github.com/repositories/1300192/issues?page=4>; rel="next", ' +
        '<https://api.github.com/repositories/1300192/issues?page=515>; rel="last", <https://api.github.com/repositories/1300192/issues?page=1>; rel="first"',
    );
    expect(Object.fromEntries(links)).toEqual({
      prev: 'https://api.github.com/repositories/1300192/issues?page=2',
      next: 'https://api.github.com/repositories/1300192/issues?page=4',
      last: 'https://api.github.com/repositories/1300192/issues?page=515',
      first: 'https://api.github.com/repositories/1300192/issues?page=1',
    });
  });

  it('handles commas and semicolons inside the URL, unquoted and multi-valued rels, other params', () => {
    const links = parseLinkHeader('<https://x.test/a?q=a,b;c&page=2>; title="a, b; c"; rel=next, <https://x.test/z>;rel="last  alternate"');
    expect(links.get('next')).toBe('https://x.test/a?q=a,b;c&page=2');
    expect(links.get('last')).toBe('https://x.test/z');
    expect(links.get('alternate')).toBe('https://x.test/z');
  });

  it('keeps the first link of a type and skips malformed entries', () => {
    const links = parseLinkHeader('garbage, <https://x.test/1>; rel="next", <https://x.test/2>; rel="next", <https://x.test/3>; foo=bar');
    expect(Object.fromEntries(links)).toEqual({ next: 'https://x.test/1' });
    expect(parseLinkHeader(null).size).toBe(0);
    expect(parseLinkHeader('<unterminated; rel="next"').size).toBe(0);
  });

  it('pageNumberOf reads a positive page number only', () => {
    expect(pageNumberOf('https://api.github.com/search/issues?q=a&page=3')).toBe(3);
    expect(pageNumberOf('https://api.github.com/x?page=0')).toBeUndefined();
    expect(pageNumberOf('https://api.github.com/x?page=abc')).toBeUndefined();
    expect(pageNumberOf('https://api.github.com/x?cursor=2', 'cursor')).toBe(2);
    expect(pageNumberOf(undefined)).toBeUndefined();
  });
});
