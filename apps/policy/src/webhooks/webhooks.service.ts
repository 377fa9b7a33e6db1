import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { VmcpError, type webhooks } from '@vmcp/contracts';
import { DataSource, nowIso } from '@vmcp/persistence';
import { isUniqueViolation } from '../shared/pagination.js';
import { WebhookEntity } from './webhook.entity.js';

/** A fresh signing secret in the Standard Webhooks format: `whsec_` + base64 of 32 random bytes. */
export function newSigningSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

function toWebhook(e: WebhookEntity): webhooks.Webhook {
  return { url: e.url, events: e.events, created_at: e.created_at, updated_at: e.updated_at };
}

const notFound = () => new VmcpError('NOT_FOUND', 'no webhook is configured');

/** The tenant's one webhook. Its secret is returned on creation and rotation only. */
@Injectable()
export class WebhooksService {
  constructor(private readonly ds: DataSource) {}

  async put(tenantId: string, url: string, events: string[] = ['*']): Promise<{ webhook: webhooks.Webhook; signing_secret?: string }> {
    const repo = this.ds.getRepository(WebhookEntity);
    const now = nowIso();
    const existing = await repo.findOneBy({ tenant_id: tenantId });
    if (existing) {
      await repo.update({ tenant_id: tenantId }, { url, events, updated_at: now });
      return { webhook: toWebhook({ ...existing, url, events, updated_at: now }) };
    }
    const created: WebhookEntity = { tenant_id: tenantId, url, events, signing_secret: newSigningSecret(), created_at: now, updated_at: now };
    try {
      await repo.insert(created);
    } catch (err) {
      // A concurrent PUT created it first: this one replaces it, keeping that secret.
      if (isUniqueViolation(err)) return this.put(tenantId, url, events);
      throw err;
    }
    return { webhook: toWebhook(created), signing_secret: created.signing_secret };
  }

  async get(tenantId: string): Promise<{ webhook: webhooks.Webhook }> {
    const found = await this.ds.getRepository(WebhookEntity).findOneBy({ tenant_id: tenantId });
    if (!found) throw notFound();
    return { webhook: toWebhook(found) };
  }

  async remove(tenantId: string): Promise<{ deleted: true }> {
    const { affected } = await this.ds.getRepository(WebhookEntity).delete({ tenant_id: tenantId });
    if (!affected) throw notFound();
    return { deleted: true };
  }

  async rotateSecret(tenantId: string): Promise<{ webhook: webhooks.Webhook; signing_secret: string }> {
    const repo = this.ds.getRepository(WebhookEntity);
    const found = await repo.findOneBy({ tenant_id: tenantId });
    if (!found) throw notFound();
    const signing_secret = newSigningSecret();
    const updated_at = nowIso();
    await repo.update({ tenant_id: tenantId }, { signing_secret, updated_at });
    return { webhook: toWebhook({ ...found, updated_at }), signing_secret };
  }

  async deliveryTarget(tenantId: string): Promise<{ target: { url: string; events: string[]; signing_secret: string } | null }> {
    const found = await this.ds.getRepository(WebhookEntity).findOneBy({ tenant_id: tenantId });
    return { target: found ? { url: found.url, events: found.events, signing_secret: found.signing_secret } : null };
  }
}
