import type { INestMicroservice } from '@nestjs/common';
import { loadConfig, type ServiceName } from '@vmcp/config';
import { Bus, serviceInbox } from '@vmcp/messaging';
import { createBusServiceApp, type BusServiceOptions, type Core } from '@vmcp/runtime';
import { createLogger, startTelemetry } from '@vmcp/telemetry';

export interface InProcessService {
  readonly app: INestMicroservice;
  readonly core: Core;
  close(): Promise<void>;
}

/**
 * One bus service inside the test process, wired exactly as in production (same module,
 * same NATS transport and queue group), with a silent logger: for handler tests over a real bus.
 */
export async function startInProcessService(
  options: BusServiceOptions & { natsUrl: string; env: Record<string, string> },
): Promise<InProcessService> {
  const config = loadConfig(options.service as ServiceName, { NODE_ENV: 'test', ...options.env, NATS_URL: options.natsUrl });
  const bus = await Bus.connect({ url: options.natsUrl, name: `test-${options.service}`, inboxPrefix: serviceInbox(options.service), timeoutMs: 3000 });
  const core: Core = { config, bus, telemetry: startTelemetry(config), logger: createLogger(options.service, 'silent') };
  const app = await createBusServiceApp(core, options);
  return {
    app,
    core,
    async close() {
      await app.close();
      await bus.close().catch(() => undefined);
    },
  };
}
