import { Controller, Delete, Get, HttpCode, Param, Patch, Post, Req } from '@nestjs/common';
import { api, Name, policy, vault, VmcpError, type Connection, type ConnectionSettingsInput } from '@vmcp/contracts';
import { CONNECTORS } from '@vmcp/connectors';
import { Bus } from '@vmcp/messaging';
import type { Request } from 'express';
import { ApiPrincipalResolver } from '../auth/api-principal.js';
import { parseBody, parseParam, parseQuery } from '../http/body.js';
import { catalogTools } from './tool-views.js';

@Controller('api/v1')
export class ConnectionsController {
  constructor(
    private readonly auth: ApiPrincipalResolver,
    private readonly bus: Bus,
  ) {}

  /** The catalog; `?include=tools` adds each connector's static tool definitions. */
  @Get('connectors')
  async connectors(@Req() req: Request) {
    await this.auth.tenant(req);
    const { include } = parseQuery(api.ConnectorsQuery, req);
    return {
      connectors: CONNECTORS.map((c) => ({
        id: c.id,
        name: c.name,
        description: c.description,
        auth_types: [...c.auth_types],
        dynamic_tools: c.dynamic_tools,
        ...(c.oauth ? { oauth: { ...c.oauth, scopes: [...c.oauth.scopes] } } : {}),
        ...(include === 'tools' ? { tools: catalogTools([c]) } : {}),
      })),
    };
  }

  /**
   * An OAuth client secret goes to the vault, never to policy: policy gets the settings
   * without it, then the vault gets the client with it. If the vault fails, the half-made
   * connection is removed again.
   */
  @Post('connections')
  async create(@Req() req: Request) {
    const tenant_id = await this.auth.tenant(req);
    const body = parseBody(api.CreateConnectionBody, req);
    const { settings, secret } = withoutClientSecret(body.settings);
    const created = await this.bus.request(policy.createConnection, { tenant_id, ...body, settings, client_secret_set: secret !== undefined });
    if (created.connection.auth_type !== 'oauth2') return created;
    try {
      await this.storeClient(tenant_id, created.connection, secret);
    } catch (err) {
      await this.bus.request(policy.deleteConnection, { tenant_id, name: created.connection.name }).catch(() => undefined);
      throw err;
    }
    return created;
  }

  @Get('connections')
  async list(@Req() req: Request) {
    const tenant_id = await this.auth.tenant(req);
    return this.bus.request(policy.listConnections, { tenant_id, ...parseQuery(api.PageQuery, req) });
  }

  @Get('connections/:name')
  async get(@Req() req: Request, @Param('name') name: string) {
    const tenant_id = await this.auth.tenant(req);
    return this.bus.request(policy.getConnection, { tenant_id, name: parseParam(Name, name, 'name') });
  }

  @Patch('connections/:name')
  async update(@Req() req: Request, @Param('name') name: string) {
    const tenant_id = await this.auth.tenant(req);
    const body = parseBody(api.UpdateConnectionBody, req);
    const { settings, secret } = withoutClientSecret(body.settings);
    const updated = await this.bus.request(policy.updateConnection, {
      tenant_id,
      name: parseParam(Name, name, 'name'),
      ...body,
      ...(settings ? { settings } : {}),
      ...(secret !== undefined ? { client_secret_set: true } : {}),
    });
    if (updated.connection.auth_type === 'oauth2') await this.storeClient(tenant_id, updated.connection, secret);
    return updated;
  }

  /** The connection's OAuth client, as policy validated it, into the vault (with the secret when one was given). */
  private async storeClient(tenantId: string, connection: Connection, secret: string | undefined): Promise<void> {
    const o = connection.settings.oauth;
    if (!o?.authorize_url || !o.token_url) throw new VmcpError('INTERNAL', 'an oauth2 connection without endpoints');
    await this.bus.request(vault.storeOAuthClient, {
      tenant_id: tenantId,
      connection_id: connection.id,
      client: {
        client_id: o.client_id,
        scopes: o.scopes,
        authorize_url: o.authorize_url,
        token_url: o.token_url,
        ...(o.revocation_url ? { revocation_url: o.revocation_url } : {}),
        ...(o.issuer ? { issuer: o.issuer } : {}),
        token_endpoint_auth_method: vault.TokenEndpointAuthMethod.parse(o.token_endpoint_auth_method ?? 'client_secret_basic'),
      },
      ...(secret !== undefined ? { client_secret: secret } : {}),
    });
  }

  @Delete('connections/:name')
  @HttpCode(200)
  async remove(@Req() req: Request, @Param('name') name: string) {
    const tenant_id = await this.auth.tenant(req);
    const reply = await this.bus.request(policy.deleteConnection, { tenant_id, name: parseParam(Name, name, 'name') });
    // The accounts are gone from policy; their credentials (and an OAuth client) go from the vault too.
    await Promise.all(reply.account_ids.map((account_id) => this.bus.request(vault.destroyCredential, { tenant_id, account_id })));
    await this.bus.request(vault.destroyOAuthClient, { tenant_id, connection_id: reply.connection_id });
    return { name: reply.name, deleted: reply.deleted };
  }
}

/** Settings as policy may see them, and the OAuth client secret apart. */
function withoutClientSecret<S extends ConnectionSettingsInput | undefined>(settings: S): { settings: S; secret: string | undefined } {
  if (!settings?.oauth) return { settings, secret: undefined };
  const { client_secret: secret, ...oauth } = settings.oauth;
  return { settings: { ...settings, oauth } as S, secret };
}
