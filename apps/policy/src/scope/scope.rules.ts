import type { DenyReason, ToolDefinition } from '@vmcp/contracts';

/** A config mapping with its connection resolved. */
export interface ResolvedMapping<C = unknown> {
  readonly connection: C;
  readonly tools: readonly string[];
  readonly prefix?: string;
  readonly timeout_ms?: number;
  readonly tool_timeouts_ms?: Readonly<Record<string, number>>;
}

/**
 * A call's deadline, most specific first: the config's for this tool, the config's for the
 * mapping, the connection's for this tool, the connection's. Undefined: the gateway default.
 */
export function deadlineOf(
  connection: { readonly timeout_ms?: number; readonly tool_timeouts_ms?: Readonly<Record<string, number>> },
  mapping: Pick<ResolvedMapping, 'timeout_ms' | 'tool_timeouts_ms'> | undefined,
  upstreamName: string,
): number | undefined {
  const own = <T>(m: Readonly<Record<string, T>> | undefined): T | undefined => (m && Object.hasOwn(m, upstreamName) ? m[upstreamName] : undefined);
  return own(mapping?.tool_timeouts_ms) ?? mapping?.timeout_ms ?? own(connection.tool_timeouts_ms) ?? connection.timeout_ms;
}

export function allowsTool(mapping: ResolvedMapping, upstreamName: string): boolean {
  return mapping.tools.includes('*') || mapping.tools.includes(upstreamName);
}

export function exposedName(mapping: ResolvedMapping, upstreamName: string): string {
  return `${mapping.prefix ?? ''}${upstreamName}`;
}

/**
 * The mappings that could serve an exposed tool name, in config order, with the name
 * the connector knows the tool by. Only explicitly allowed names (or "*") qualify.
 */
export function candidatesFor<C>(mappings: readonly ResolvedMapping<C>[], name: string) {
  const out: Array<{ mapping: ResolvedMapping<C>; upstreamName: string }> = [];
  for (const mapping of mappings) {
    const prefix = mapping.prefix ?? '';
    if (!name.startsWith(prefix)) continue;
    const upstreamName = name.slice(prefix.length);
    if (upstreamName && allowsTool(mapping, upstreamName)) out.push({ mapping, upstreamName });
  }
  return out;
}

/**
 * The tools one mapping exposes from a connection's catalog. `taken` holds names already
 * exposed by earlier mappings: the first mapping wins a clash, in listing and in calls alike.
 */
export function exposedTools<C>(mapping: ResolvedMapping<C>, catalog: readonly ToolDefinition[], taken: Set<string>) {
  const out: Array<{ name: string; definition: ToolDefinition }> = [];
  for (const definition of catalog) {
    if (!allowsTool(mapping, definition.name)) continue;
    const name = exposedName(mapping, definition.name);
    if (taken.has(name)) continue;
    taken.add(name);
    out.push({ name, definition });
  }
  return out;
}

/** One message for unmapped and non-existent tools alike: nothing leaks about what exists. */
export function toolNotFound(name: string): { reason: DenyReason; message: string } {
  return { reason: 'TOOL_NOT_FOUND', message: `Tool "${name.slice(0, 128)}" not found` };
}
