import type { paths } from './generated/openapi.js';

type HttpMethod = 'get' | 'put' | 'post' | 'delete' | 'patch';
/** The methods the OpenAPI document defines on a path. */
type MethodOf<P extends keyof paths> = {
  [M in HttpMethod]-?: undefined extends paths[P][M] ? never : M;
}[HttpMethod];

export interface Route {
  readonly method: HttpMethod;
  /** OpenAPI-style path; `{name}` segments are filled from the call's path parameters. */
  readonly path: keyof paths;
}

/** Typed against the generated `paths`, so a route the document does not have fails the build. */
const route = <P extends keyof paths>(method: MethodOf<P>, path: P): Route => ({ method, path });

/**
 * Which operation of the API each SDK method calls. The client builds every request from
 * this table, and a test checks it against the OpenAPI document the edge serves, both
 * ways: every operation has a method, every method an operation.
 */
export const ROUTES = {
  'tenants.create': route('post', '/api/v1/tenants'),
  'tenants.list': route('get', '/api/v1/tenants'),
  'tenants.createApiKey': route('post', '/api/v1/tenants/{tenant_id}/api_keys'),
  'tenants.revokeApiKey': route('delete', '/api/v1/tenants/{tenant_id}/api_keys/{key_id}'),
  'connectors.list': route('get', '/api/v1/connectors'),
  'connections.create': route('post', '/api/v1/connections'),
  'connections.list': route('get', '/api/v1/connections'),
  'connections.get': route('get', '/api/v1/connections/{name}'),
  'connections.update': route('patch', '/api/v1/connections/{name}'),
  'connections.delete': route('delete', '/api/v1/connections/{name}'),
  'connectedAccounts.upsert': route('post', '/api/v1/connected_accounts'),
  'connectedAccounts.list': route('get', '/api/v1/connected_accounts'),
  'connectedAccounts.get': route('get', '/api/v1/connected_accounts/{id}'),
  'connectedAccounts.delete': route('delete', '/api/v1/connected_accounts/{id}'),
  'connectedAccounts.authorizationLink': route('post', '/api/v1/connected_accounts/authorization_link'),
  'configs.create': route('post', '/api/v1/mcp/configs'),
  'configs.list': route('get', '/api/v1/mcp/configs'),
  'configs.get': route('get', '/api/v1/mcp/configs/{config_id}'),
  'configs.replace': route('put', '/api/v1/mcp/configs/{config_id}'),
  'configs.delete': route('delete', '/api/v1/mcp/configs/{config_id}'),
  'configs.mintToken': route('post', '/api/v1/mcp/configs/{config_id}/tokens'),
  'configs.connectedAccounts': route('post', '/api/v1/mcp/configs/{config_id}/connected_accounts'),
  'tokens.revoke': route('delete', '/api/v1/mcp/tokens/{token_id}'),
  'tools.catalog': route('get', '/api/v1/tools'),
  'tools.scoped': route('get', '/api/v1/tools/scoped'),
  'tools.execute': route('post', '/api/v1/execute_tool'),
  'toolCallLogs.list': route('get', '/api/v1/tool_call_logs'),
  'toolCallLogs.export': route('get', '/api/v1/tool_call_logs/export'),
  'toolCallLogs.get': route('get', '/api/v1/tool_call_logs/{execution_id}'),
  'audit.verify': route('get', '/api/v1/audit/verify'),
  'audit.settings': route('get', '/api/v1/audit/settings'),
  'audit.updateSettings': route('put', '/api/v1/audit/settings'),
  'webhook.get': route('get', '/api/v1/webhook'),
  'webhook.put': route('put', '/api/v1/webhook'),
  'webhook.delete': route('delete', '/api/v1/webhook'),
  'webhook.rotateSecret': route('post', '/api/v1/webhook/rotate_secret'),
  'keyRotations.start': route('post', '/api/v1/key_rotations'),
  'keyRotations.list': route('get', '/api/v1/key_rotations'),
  'keyRotations.get': route('get', '/api/v1/key_rotations/{id}'),
  'health.live': route('get', '/healthz'),
  'health.ready': route('get', '/readyz'),
} as const;

/** An SDK method, as `resource.method`. */
export type RouteName = keyof typeof ROUTES;
