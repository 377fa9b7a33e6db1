import { describe, expect, it } from 'vitest';
import { InvalidCursor, pageOf } from './tools-page.js';

const tools = (...names: string[]) => names.map((name) => ({ name }));
const names = (page: { tools: { name: string }[] }) => page.tools.map((t) => t.name);

function walk(list: { name: string }[], pageSize: number): string[][] {
  const pages: string[][] = [];
  let cursor: string | undefined;
  do {
    const page = pageOf(list, cursor, pageSize);
    pages.push(names(page));
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return pages;
}

describe('tools/list pages', () => {
  it('cuts the list into pages in order, with a cursor on every page but the last', () => {
    expect(walk(tools('a', 'b', 'c', 'd', 'e'), 2)).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
    expect(walk(tools('a', 'b', 'c', 'd'), 2)).toEqual([['a', 'b'], ['c', 'd']]);
    expect(pageOf(tools('a'), undefined, 100)).toEqual({ tools: tools('a') });
    expect(pageOf([], undefined, 100)).toEqual({ tools: [] });
  });

  it('starts again from the first page when the list changed under the cursor', () => {
    const first = pageOf(tools('a', 'b', 'c', 'd'), undefined, 2);
    const changed = tools('a', 'x', 'b', 'c', 'd');
    const page = pageOf(changed, first.nextCursor, 2);
    expect(names(page)).toEqual(['a', 'x']);
    expect(names(pageOf(changed, page.nextCursor, 2))).toEqual(['b', 'c']);
    // Another user's list is another list: the cursor carries no offset into it.
    expect(names(pageOf(tools('p', 'q', 'r'), first.nextCursor, 2))).toEqual(['p', 'q']);
  });

  it('keeps the offset when only definitions changed', () => {
    const first = pageOf([{ name: 'a', v: 1 }, { name: 'b', v: 1 }, { name: 'c', v: 1 }], undefined, 2);
    expect(pageOf([{ name: 'a', v: 2 }, { name: 'b', v: 2 }, { name: 'c', v: 2 }], first.nextCursor, 2).tools).toEqual([{ name: 'c', v: 2 }]);
  });

  it('refuses a cursor it did not hand out', () => {
    const list = tools('a', 'b', 'c');
    const cursor = pageOf(list, undefined, 2).nextCursor!;
    const fingerprint = Buffer.from(cursor, 'base64url').toString().split('.')[2];
    for (const bad of [
      '',
      'not a cursor',
      'x'.repeat(200),
      Buffer.from('v1.-1.AAAAAAAAAAAAAAAA').toString('base64url'),
      Buffer.from('v2.2.AAAAAAAAAAAAAAAA').toString('base64url'),
      Buffer.from(`v1.3.${fingerprint}`).toString('base64url'), // past the end of the same list
      Buffer.from(`v1.99999999999.${fingerprint}`).toString('base64url'),
      `${cursor}=`,
    ]) {
      expect(() => pageOf(list, bad, 2), bad).toThrow(InvalidCursor);
    }
  });
});
