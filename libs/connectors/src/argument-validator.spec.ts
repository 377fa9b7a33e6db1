import { describe, expect, it } from 'vitest';
import { ArgumentValidator } from './argument-validator.js';

const SCHEMA = { type: 'object', properties: { text: { type: 'string' } }, required: ['text'], additionalProperties: false };

describe('ArgumentValidator', () => {
  it('accepts valid arguments and names what is wrong with invalid ones, never their values', () => {
    const v = new ArgumentValidator();
    expect(v.check(SCHEMA, { text: 'hello' })).toBeUndefined();
    const problem = v.check(SCHEMA, { text: 4242424242 });
    expect(problem).toContain('/text');
    expect(problem).not.toContain('4242424242');
    expect(v.check(SCHEMA, {})).toContain('text');
  });

  it('says the same for the same schema object call after call, and for an equal copy of it', () => {
    const v = new ArgumentValidator();
    const copy = JSON.parse(JSON.stringify(SCHEMA)) as Record<string, unknown>;
    for (let i = 0; i < 3; i++) {
      expect(v.check(SCHEMA, { text: 'x' })).toBeUndefined();
      expect(v.check(copy, { text: 1 })).toBe(v.check(SCHEMA, { text: 1 }));
    }
  });

  it('reads draft-07 schemas as draft-07, and reports a schema that does not compile', () => {
    const v = new ArgumentValidator();
    const draft07 = { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', properties: { n: { type: 'integer' } } };
    expect(v.check(draft07, { n: 1 })).toBeUndefined();
    expect(v.check(draft07, { n: 1.5 })).toContain('/n');
    const broken = { type: 'object', properties: { a: { $ref: '#/definitions/missing' } } };
    expect(v.check(broken, { a: 1 })).toBe('the tool publishes an input schema that cannot be compiled');
    expect(v.check(broken, { a: 1 })).toBe('the tool publishes an input schema that cannot be compiled');
  });
});
