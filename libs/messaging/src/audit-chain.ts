import { audit, type ChainVerification } from '@vmcp/contracts';
import type { Bus } from './bus.js';

/**
 * Verifies a tenant's audit hash chain over [from_seq, to_seq] (default: all that is
 * kept). The audit service checks a bounded stretch per request and says where to resume,
 * so a long chain is walked in steps, each within the bus timeout, in bounded memory.
 */
export async function verifyAuditChain(
  bus: Bus,
  request: { tenant_id: string; from_seq?: number; to_seq?: number; max_records?: number },
): Promise<ChainVerification> {
  let checked = 0;
  let first: number | null = null;
  let resume: { seq: number; hash: string } | undefined;
  for (;;) {
    const step = await bus.request(audit.verifyChain, { ...request, ...(resume ? { resume } : {}) });
    checked += step.checked;
    first ??= step.first_seq;
    if (!step.resume) {
      const { resume: _done, ...result } = step;
      return { ...result, checked, first_seq: first };
    }
    resume = step.resume;
  }
}
