import type { Requester } from '../transport.js';
import type { RotatedWebhookSecret, Webhook, WebhookInput, WebhookWithSecret } from '../types.js';

/** The tenant's one webhook, where vmcp posts signed events (e.g. an account's status changed). */
export class WebhookEndpoint {
  constructor(private readonly transport: Requester) {}

  /** The webhook, never its secret. */
  get(): Promise<{ webhook: Webhook }> {
    return this.transport.json('webhook.get');
  }

  /** Sets the webhook; the signing secret is in the reply when it is created, and only then. */
  put(input: WebhookInput): Promise<WebhookWithSecret> {
    return this.transport.json('webhook.put', { body: input });
  }

  /** Removes it; events are no longer delivered. */
  delete(): Promise<{ deleted: true }> {
    return this.transport.json('webhook.delete');
  }

  /** A new signing secret, shown once; the old one stops at once. */
  rotateSecret(): Promise<RotatedWebhookSecret> {
    return this.transport.json('webhook.rotateSecret');
  }
}
