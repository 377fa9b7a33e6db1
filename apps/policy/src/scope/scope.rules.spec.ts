import { describe, expect, it } from 'vitest';
import { candidatesFor, exposedTools, toolNotFound, type ResolvedMapping } from './scope.rules.js';

const tool = (name: string) => ({ name, inputSchema: { type: 'object' as const } });

describe('scope rules', () => {
  const crm: ResolvedMapping<string> = { connection: 'crm', tools: ['lookup', 'update'] };
  const all: ResolvedMapping<string> = { connection: 'docs', tools: ['*'], prefix: 'docs_' };

  it('exposes only mapped tools, with the prefix, first mapping winning a clash', () => {
    const taken = new Set<string>();
    expect(exposedTools(crm, [tool('lookup'), tool('delete'), tool('update')], taken).map((t) => t.name)).toEqual(['lookup', 'update']);
    expect(exposedTools(all, [tool('search'), tool('lookup')], taken).map((t) => t.name)).toEqual(['docs_search', 'docs_lookup']);
    const clash: ResolvedMapping<string> = { connection: 'other', tools: ['*'] };
    expect(exposedTools(clash, [tool('lookup'), tool('x')], taken).map((t) => t.name)).toEqual(['x']);
  });

  it('finds the mapping and upstream name of an exposed name', () => {
    expect(candidatesFor([crm, all], 'lookup')).toEqual([{ mapping: crm, upstreamName: 'lookup' }]);
    expect(candidatesFor([crm, all], 'docs_search')).toEqual([{ mapping: all, upstreamName: 'search' }]);
    expect(candidatesFor([crm, all], 'delete')).toEqual([]);
    expect(candidatesFor([crm, all], 'docs_')).toEqual([]);
  });

  it('says the same thing for unmapped and missing tools', () => {
    expect(toolNotFound('a').message.replace('a', 'X')).toBe(toolNotFound('b').message.replace('b', 'X'));
    expect(toolNotFound('a').reason).toBe('TOOL_NOT_FOUND');
  });
});
