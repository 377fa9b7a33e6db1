import { describe, expect, it } from 'vitest';
import { relayedCapabilities } from './client-requests.service.js';

describe('relayedCapabilities', () => {
  it('keeps only what MCP defines of sampling and elicitation, in one shape', () => {
    expect(relayedCapabilities({ sampling: {}, elicitation: { form: {}, url: {} } })).toEqual({ sampling: {}, elicitation: { form: {}, url: {} } });
    expect(relayedCapabilities({ sampling: { context: { x: 1 }, tools: {}, junk: true }, roots: { listChanged: true } })).toEqual({ sampling: { context: {}, tools: {} } });
    expect(relayedCapabilities({ elicitation: { form: { applyDefaults: true, extra: 1 } } })).toEqual({ elicitation: { form: { applyDefaults: true } } });
    expect(relayedCapabilities({ elicitation: { form: { applyDefaults: 'yes' } } })).toEqual({ elicitation: { form: {} } });
    expect(relayedCapabilities({ elicitation: { url: {} } })).toEqual({ elicitation: { url: {} } });
  });

  it('reads an elicitation capability that names no mode as form mode (2025-06-18 clients)', () => {
    expect(relayedCapabilities({ elicitation: {} })).toEqual({ elicitation: { form: {} } });
    expect(relayedCapabilities({ elicitation: { something: {} } })).toEqual({ elicitation: { form: {} } });
  });

  it('is undefined for a client that can answer neither, or declares them as something other than objects', () => {
    expect(relayedCapabilities({})).toBeUndefined();
    expect(relayedCapabilities({ roots: {}, experimental: {} })).toBeUndefined();
    expect(relayedCapabilities({ sampling: true, elicitation: ['form'] })).toBeUndefined();
  });
});
