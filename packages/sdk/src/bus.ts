import type { RouteName } from './routes.js';

// The public bus API (docs/bus-api.md): the tenant operations of the REST API over NATS
// request/reply. Subjects and the header name are wire-compatible and public: never renamed
// in place (a new version gets `vmcp.api.v2`). The SDK keeps its own copy of the table, as
// it depends on no internal lib; packages/sdk/test/bus-api-drift.spec.ts keeps it equal to
// the gateway's contract, both ways.

/** The header that carries the tenant API key on every bus API request. */
export const API_KEY_HEADER = 'Vmcp-Api-Key';

/**
 * The SDK methods that exist over NATS and the subject each calls. The ones named after a
 * route take the same input and return the same reply as over HTTP (`ROUTES` says which
 * REST operation that is); `events.*` are the event feed, which only NATS offers.
 */
export const BUS_SUBJECTS = {
  'configs.mintToken': 'vmcp.api.v1.tokens.mint',
  'tokens.revoke': 'vmcp.api.v1.tokens.revoke',
  'tools.scoped': 'vmcp.api.v1.tools.scoped',
  'tools.execute': 'vmcp.api.v1.tools.execute',
  'connectedAccounts.list': 'vmcp.api.v1.connected_accounts.list',
  'connectedAccounts.get': 'vmcp.api.v1.connected_accounts.get',
  'connectedAccounts.authorizationLink': 'vmcp.api.v1.connected_accounts.authorization_link',
  'configs.connectedAccounts': 'vmcp.api.v1.configs.connected_accounts',
  'toolCallLogs.list': 'vmcp.api.v1.tool_call_logs.list',
  'toolCallLogs.get': 'vmcp.api.v1.tool_call_logs.get',
  'events.pull': 'vmcp.api.v1.events.pull',
  'events.ack': 'vmcp.api.v1.events.ack',
  'events.deleteConsumer': 'vmcp.api.v1.events.delete_consumer',
} as const satisfies { readonly [K in RouteName | `events.${string}`]?: `vmcp.api.v1.${string}` };

/** An SDK method that exists over NATS, as `resource.method`. */
export type BusMethodName = keyof typeof BUS_SUBJECTS;
/** The NATS methods that are also REST operations (the rest are the event feed). */
export type BusRouteName = Extract<BusMethodName, RouteName>;

/** The subject of a method, or undefined when the bus API does not offer it. */
export function busSubjectOf(name: string): string | undefined {
  return Object.hasOwn(BUS_SUBJECTS, name) ? BUS_SUBJECTS[name as BusMethodName] : undefined;
}
