import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical-json.js';

describe('canonicalJson', () => {
  it('writes one text per value: keys sorted at every level, no whitespace', () => {
    const a = { b: 1, a: { z: [3, { y: true, x: null }], c: 'é"\n' } };
    const b = { a: { c: 'é"\n', z: [3, { x: null, y: true }] }, b: 1 };
    expect(canonicalJson(a)).toBe('{"a":{"c":"é\\"\\n","z":[3,{"x":null,"y":true}]},"b":1}');
    expect(canonicalJson(b)).toBe(canonicalJson(a));
    expect(JSON.parse(canonicalJson(a))).toEqual(a);
  });

  it('leaves out undefined members, like JSON.stringify, and refuses what is not JSON', () => {
    expect(canonicalJson({ a: undefined, b: [undefined], c: 1.5e-7 })).toBe('{"b":[null],"c":1.5e-7}');
    expect(() => canonicalJson(10n)).toThrow(TypeError);
  });

  it('refuses documents nested deeper than its limit instead of exhausting the stack', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 10_000; i++) deep = [deep];
    expect(() => canonicalJson(deep)).toThrow(RangeError);
  });
});
