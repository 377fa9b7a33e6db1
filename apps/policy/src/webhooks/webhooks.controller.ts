import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import { webhooks } from '@vmcp/contracts';
import { Bus, serveRpc } from '@vmcp/messaging';
import { EventInterestKv } from './event-interest.kv.js';
import { WebhooksService } from './webhooks.service.js';

@Controller()
export class WebhooksController {
  constructor(
    private readonly webhooks: WebhooksService,
    private readonly interest: EventInterestKv,
    private readonly bus: Bus,
  ) {}

  /** After a committed change: executors drop their copy of the tenant's delivery target. */
  private async changed<T>(tenantId: string, change: Promise<T>): Promise<T> {
    const result = await change;
    this.bus.publish(webhooks.webhookChanged, { tenant_id: tenantId });
    return result;
  }

  @MessagePattern(webhooks.putWebhook.subject)
  put(@Payload() data: unknown, @Ctx() ctx: NatsContext) {
    return serveRpc(webhooks.putWebhook, data, ctx, async (req) => {
      // Marked first (no events given: all, `*`): once the webhook is stored, its tool-call events are published.
      await this.interest.markFor(req.tenant_id, req.events ?? ['*']);
      return this.changed(req.tenant_id, this.webhooks.put(req.tenant_id, req.url, req.events));
    });
  }

  @MessagePattern(webhooks.getWebhook.subject)
  get(@Payload() data: unknown, @Ctx() ctx: NatsContext) {
    return serveRpc(webhooks.getWebhook, data, ctx, (req) => this.webhooks.get(req.tenant_id));
  }

  @MessagePattern(webhooks.deleteWebhook.subject)
  remove(@Payload() data: unknown, @Ctx() ctx: NatsContext) {
    return serveRpc(webhooks.deleteWebhook, data, ctx, (req) => this.changed(req.tenant_id, this.webhooks.remove(req.tenant_id)));
  }

  @MessagePattern(webhooks.rotateWebhookSecret.subject)
  rotate(@Payload() data: unknown, @Ctx() ctx: NatsContext) {
    return serveRpc(webhooks.rotateWebhookSecret, data, ctx, (req) => this.changed(req.tenant_id, this.webhooks.rotateSecret(req.tenant_id)));
  }

  /** The executor's lookup before each delivery; the bus lets no other service ask. */
  @MessagePattern(webhooks.deliveryTarget.subject)
  deliveryTarget(@Payload() data: unknown, @Ctx() ctx: NatsContext) {
    return serveRpc(webhooks.deliveryTarget, data, ctx, (req) => this.webhooks.deliveryTarget(req.tenant_id));
  }
}
