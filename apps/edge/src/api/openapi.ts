import { api, ErrorReply } from '@vmcp/contracts';
import { VMCP_VERSION } from '@vmcp/telemetry';
import { z } from 'zod';

type JsonSchema = Record<string, unknown>;

function schemaOf(s: z.ZodType, io: 'input' | 'output'): JsonSchema {
  return z.toJSONSchema(s, { io, unrepresentable: 'any', target: 'openapi-3.0' }) as JsonSchema;
}

function parametersOf(route: api.ApiRoute): unknown[] {
  const params: unknown[] = [];
  for (const m of route.path.matchAll(/\{([a-z_]+)\}/g)) {
    params.push({ name: m[1], in: 'path', required: true, schema: { type: 'string' } });
  }
  if (route.query) {
    const shape = schemaOf(route.query, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] };
    for (const [name, schema] of Object.entries(shape.properties ?? {})) {
      params.push({ name, in: 'query', required: shape.required?.includes(name) ?? false, schema });
    }
  }
  return params;
}

/** The OpenAPI 3 document of the management API, generated from the same schemas the edge validates with. */
export function buildOpenApiDocument(publicUrl: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const errorResponse = { description: 'Error', content: { 'application/json': { schema: schemaOf(ErrorReply, 'output') } } };
  for (const route of api.API_ROUTES) {
    const op: Record<string, unknown> = {
      summary: route.summary,
      tags: [route.tag],
      operationId: `${route.method}_${route.path.replace(/^\/api\/v1\//, '').replace(/[{}]/g, '').replace(/\//g, '_')}`,
      parameters: parametersOf(route),
      responses: {
        // For NDJSON, the schema is that of one line.
        [String(route.status)]: { description: 'OK', content: { [route.produces ?? 'application/json']: { schema: schemaOf(route.response, 'output') } } },
        ...(route.alsoStatus
          ? { [String(route.alsoStatus)]: { description: 'OK', content: { 'application/json': { schema: schemaOf(route.response, 'output') } } } }
          : {}),
        default: errorResponse,
      },
    };
    // Several entries mean any one of them will do.
    if (route.auth === 'admin_or_tenant') op.security = [{ adminKey: [] }, { tenantKey: [] }];
    else if (route.auth !== 'none') op.security = [{ [route.auth === 'admin' ? 'adminKey' : 'tenantKey']: [] }];
    if (route.body) {
      op.requestBody = { required: true, content: { 'application/json': { schema: schemaOf(route.body, 'input') } } };
    }
    (paths[route.path] ??= {})[route.method] = op;
  }
  return {
    openapi: '3.0.3',
    info: {
      title: 'vmcp management API',
      version: VMCP_VERSION,
      description: 'Tenants, connections, connected accounts, MCP configs, session tokens and the audit log of a vmcp gateway.',
    },
    servers: [{ url: publicUrl }],
    components: {
      securitySchemes: {
        adminKey: { type: 'http', scheme: 'bearer', description: 'The platform admin key (VMCP_ADMIN_KEY).' },
        tenantKey: { type: 'http', scheme: 'bearer', description: 'A tenant API key.' },
      },
    },
    paths,
  };
}
