import { describe, expect, it } from 'vitest';
import { checkToolNames } from './configs.service.js';

describe('checkToolNames', () => {
  it('takes the tools a native connector has, and "*"', () => {
    expect(() => checkToolNames('github', 'gh', ['github_get_issue', 'github_list_issues'])).not.toThrow();
    expect(() => checkToolNames('github', 'gh', ['*'])).not.toThrow();
  });

  it('refuses other names, listing the valid ones', () => {
    expect(() => checkToolNames('github', 'gh', ['github_get_issue', 'github_nope', 'github_nope'])).toThrow(
      /^connection_tool_mappings: connector github of connection "gh" has no tool "github_nope"; valid tools: github_list_issues, github_get_issue, /,
    );
  });

  it('leaves mcp connections alone: their tools are discovered upstream', () => {
    expect(() => checkToolNames('mcp', 'up', ['anything'])).not.toThrow();
  });

  it('keeps the message within what crosses the bus', () => {
    const many = Array.from({ length: 50 }, (_, i) => `${'x'.repeat(120)}${i}`);
    let message = '';
    try {
      checkToolNames('github', 'gh', many);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message.length).toBeLessThanOrEqual(2000);
  });
});
