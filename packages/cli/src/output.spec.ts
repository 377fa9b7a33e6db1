import { describe, expect, it } from 'vitest';
import { formatFields, formatTable, short } from './output.js';

describe('output', () => {
  it('pads table columns to the widest cell, with upper-case headers and - for nothing', () => {
    expect(formatTable(['name', 'connector', 'id'], [['github', 'github', 'conn_1'], ['up', null, 'conn_22']])).toBe(
      'NAME    CONNECTOR  ID\ngithub  github     conn_1\nup      -          conn_22\n',
    );
  });

  it('aligns fields', () => {
    expect(formatFields([['id', 'cfg_1'], ['mcp_server_url', 'http://x/mcp/cfg_1'], ['description', null]])).toBe(
      'id:             cfg_1\nmcp_server_url: http://x/mcp/cfg_1\ndescription:    -\n',
    );
  });

  it('shortens descriptions to their first line', () => {
    expect(short('Echo the text back\nMore detail')).toBe('Echo the text back');
    expect(short('x'.repeat(80), 10)).toBe(`${'x'.repeat(9)}…`);
  });
});
