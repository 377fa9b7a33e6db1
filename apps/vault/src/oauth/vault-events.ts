import { Injectable } from '@nestjs/common';
import { vault } from '@vmcp/contracts';
import { Bus } from '@vmcp/messaging';

/** What the vault tells the rest of vmcp; a class so tests can record instead of publish. */
export abstract class VaultEvents {
  abstract accountExpired(e: { tenant_id: string; account_id: string; reason: string }): void;
  abstract credentialChanged(e: { tenant_id: string; account_id: string | null; reason: 'refreshed' | 'rotated' }): void;
}

@Injectable()
export class BusVaultEvents extends VaultEvents {
  constructor(private readonly bus: Bus) {
    super();
  }

  accountExpired(e: { tenant_id: string; account_id: string; reason: string }): void {
    this.bus.publish(vault.accountExpired, e);
  }

  credentialChanged(e: { tenant_id: string; account_id: string | null; reason: 'refreshed' | 'rotated' }): void {
    this.bus.publish(vault.credentialChanged, e);
  }
}
