import { ping } from '@vmcp/contracts';
import { VMCP_VERSION } from '@vmcp/telemetry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { natsContext, openVaultFixture, type VaultFixture } from '../../test/vault-fixture.js';
import { PingController } from './ping.controller.js';
import { PingHandler } from './ping.handler.js';

describe('ping.vault', () => {
  let f: VaultFixture;
  let controller: PingController;
  const call = (body: unknown) => controller.ping(body, natsContext(ping.vault.subject));

  beforeAll(async () => {
    f = await openVaultFixture('sqlite');
    controller = new PingController(new PingHandler(f.ds));
  });
  afterAll(() => f?.close());

  it('is ready while the database answers, and says so when it does not', async () => {
    expect(await call({})).toEqual({ service: 'vault', ready: true, version: VMCP_VERSION });
    expect(await call({ unexpected: 1 })).toMatchObject({ error: { code: 'INVALID_ARGUMENT' } });
    await f.ds.destroy();
    expect(await call({})).toEqual({ service: 'vault', ready: false, version: VMCP_VERSION });
  });
});
