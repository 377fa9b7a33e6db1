import { describe, expect, it } from 'vitest';
import { isPermitted, permittedCapabilities, relayedCapabilities } from './client-requests.service.js';

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

describe("the capabilities a call's config permits", () => {
  const declared = { sampling: { context: {}, tools: {} }, elicitation: { form: { applyDefaults: true as const }, url: {} } };

  it('keeps what the agent declared and the config allows, shapes and all', () => {
    expect(permittedCapabilities(declared, { sampling: true, elicitation: true })).toEqual(declared);
    expect(permittedCapabilities(declared, { sampling: false, elicitation: true })).toEqual({ elicitation: declared.elicitation });
    expect(permittedCapabilities(declared, { sampling: true, elicitation: false })).toEqual({ sampling: declared.sampling });
    expect(permittedCapabilities({ elicitation: { form: {} } }, { sampling: true, elicitation: true })).toEqual({ elicitation: { form: {} } });
  });

  it('permits nothing when nothing is left, or when the decision carries no setting (closed, not open)', () => {
    expect(permittedCapabilities(declared, { sampling: false, elicitation: false })).toBeUndefined();
    expect(permittedCapabilities({ sampling: {} }, { sampling: false, elicitation: true })).toBeUndefined();
    expect(permittedCapabilities(declared, undefined)).toBeUndefined();
  });

  it('lets a relayed request through only when its capability was permitted', () => {
    expect(isPermitted('sampling/createMessage', { sampling: {} })).toBe(true);
    expect(isPermitted('sampling/createMessage', { elicitation: { form: {} } })).toBe(false);
    expect(isPermitted('elicitation/create', { elicitation: { url: {} } })).toBe(true);
    expect(isPermitted('elicitation/create', { sampling: {} })).toBe(false);
  });
});
