import type { Requester } from '../transport.js';
import type { AuditSettings, AuditSettingsInput, AuditVerification, AuditVerifyQuery } from '../types.js';

/** The tenant's audit trail as a whole: its hash chain and how long it is kept. */
export class Audit {
  constructor(private readonly transport: Requester) {}

  /** Checks the hash chain of the tenant's audit records (`from`/`to`: sequence numbers, both included). */
  verify(query: AuditVerifyQuery = {}): Promise<AuditVerification> {
    return this.transport.json('audit.verify', { query });
  }

  settings(): Promise<{ settings: AuditSettings }> {
    return this.transport.json('audit.settings');
  }

  /** How many days entries are kept (1 to 3650). */
  updateSettings(input: AuditSettingsInput): Promise<{ settings: AuditSettings }> {
    return this.transport.json('audit.updateSettings', { body: input });
  }
}
