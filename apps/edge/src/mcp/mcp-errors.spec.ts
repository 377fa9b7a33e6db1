import { VmcpError } from '@vmcp/contracts';
import { describe, expect, it } from 'vitest';
import { mcpErrorOf } from './mcp-errors.js';

describe('mcpErrorOf', () => {
  it("passes a vmcp error's code and message to the agent, with data.code", () => {
    const error = mcpErrorOf(new VmcpError('TOOL_NOT_FOUND', 'no tool named x'));
    expect([error.code, error.message, error.data]).toEqual([-32602, 'no tool named x', { code: 'TOOL_NOT_FOUND' }]);
  });

  it('says nothing of any other error but that it happened', () => {
    const error = mcpErrorOf(new Error('connect ECONNREFUSED 10.0.0.7:5432 password=hunter2'));
    expect([error.code, error.message, error.data]).toEqual([-32603, 'Internal error', { code: 'INTERNAL' }]);
    expect(JSON.stringify({ message: error.message, data: error.data })).not.toContain('hunter2');
  });
});
