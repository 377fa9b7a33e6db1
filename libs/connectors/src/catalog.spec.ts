import { describe, expect, it } from 'vitest';
import { findConnector, mcpConnectorInfo } from './catalog.js';

describe('connector catalog', () => {
  it('finds the mcp connector and checks its settings', () => {
    expect(findConnector('mcp')).toBe(mcpConnectorInfo);
    expect(findConnector('nope')).toBeUndefined();
    expect(mcpConnectorInfo.validateSettings({}, 'none')).toMatch(/settings.url is required/);
    expect(mcpConnectorInfo.validateSettings({ url: 'https://mcp.example.com/mcp' }, 'bearer_token')).toBeUndefined();
  });

  it('refuses an upstream URL that carries credentials, without repeating them', () => {
    const problem = mcpConnectorInfo.validateSettings({ url: 'https://me:hunter2@mcp.example.com/mcp' }, 'none');
    expect(problem).toMatch(/must not contain credentials/);
    expect(problem).not.toContain('hunter2');
  });
});
