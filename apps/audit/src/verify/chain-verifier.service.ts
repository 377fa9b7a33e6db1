import { Injectable } from '@nestjs/common';
import type { audit, ChainBreakReason, RpcReply, RpcRequestParsed } from '@vmcp/contracts';
import { DataSource } from '@vmcp/persistence';
import { Between } from 'typeorm';
import { AuditChainEntity, AuditRecordEntity } from '../chain/chain.entities.js';
import { checkLink } from '../chain/chain.js';

/** Records read per query: verification streams through a chain in bounded memory. */
export const VERIFY_PAGE = 500;

type Request = RpcRequestParsed<typeof audit.verifyChain>;
type Reply = RpcReply<typeof audit.verifyChain>;
interface Link {
  seq: number;
  hash: string;
}

/**
 * Walks a tenant's chain from its anchor (or `from_seq`) to its head (or `to_seq`),
 * a page at a time, and reports the first record that breaks it. Stops after
 * `max_records` with a `resume` link, so no single request runs long.
 */
@Injectable()
export class ChainVerifierService {
  constructor(private readonly ds: DataSource) {}

  async verify(req: Request): Promise<Reply> {
    const tenant = req.tenant_id;
    let head = await this.head(tenant);
    if (!head) return { ok: true, checked: 0, first_seq: null, last_seq: null, last_hash: null, anchor_seq: 0 };

    let expected: number;
    let prevHash: string;
    let last: Link | undefined;
    if (req.resume && req.resume.seq >= head.anchor_seq) {
      expected = req.resume.seq + 1;
      prevHash = req.resume.hash;
      last = req.resume;
    } else {
      // A resumed walk whose position was purged meanwhile continues from the new anchor.
      const lowest = head.anchor_seq + 1;
      expected = Math.max(req.resume ? lowest : (req.from_seq ?? lowest), lowest);
      prevHash = head.anchor_hash;
      if (expected > lowest) {
        const before = await this.ds.getRepository(AuditRecordEntity).findOneBy({ tenant_id: tenant, seq: expected - 1 });
        if (!before) return this.broken(head, 0, undefined, undefined, { seq: expected - 1, reason: 'missing' });
        prevHash = before.hash;
      }
    }
    const end = Math.min(req.to_seq ?? head.last_seq, head.last_seq);
    let checked = 0;
    let first: number | undefined;

    while (expected <= end) {
      if (checked >= req.max_records && last) {
        return { ok: true, checked, first_seq: first ?? null, last_seq: last.seq, last_hash: last.hash, anchor_seq: head.anchor_seq, resume: last };
      }
      const page = await this.ds.getRepository(AuditRecordEntity).find({
        where: { tenant_id: tenant, seq: Between(expected, end) },
        order: { seq: 'ASC' },
        take: Math.min(VERIFY_PAGE, Math.max(1, req.max_records - checked)),
      });
      let restart = false;
      for (const row of page) {
        const reason = checkLink(row, tenant, expected, prevHash);
        if (!reason) {
          checked++;
          first ??= row.seq;
          last = { seq: row.seq, hash: row.hash };
          prevHash = row.hash;
          expected++;
          continue;
        }
        const moved = reason === 'missing' ? await this.purgedUpTo(tenant, expected) : null;
        if (!moved) return this.broken(head, checked, first, last, { seq: reason === 'missing' ? expected : row.seq, reason, event_id: reason === 'missing' ? undefined : row.event_id });
        ({ head, expected, prevHash, last } = this.fromAnchor(moved));
        restart = true;
        break;
      }
      if (restart || page.length) continue;
      // Nothing where the head says records are: gone, unless purged while we walked.
      const moved = await this.purgedUpTo(tenant, expected);
      if (!moved) return this.broken(head, checked, first, last, { seq: expected, reason: 'missing' });
      ({ head, expected, prevHash, last } = this.fromAnchor(moved));
    }
    // The head remembers the newest record's hash: a rewritten newest record shows here.
    if (end === head.last_seq && last && last.seq === end && last.hash !== head.last_hash) {
      return this.broken(head, checked, first, last, { seq: end, reason: 'hash_mismatch' });
    }
    return { ok: true, checked, first_seq: first ?? null, last_seq: last && last.seq > head.anchor_seq ? last.seq : null, last_hash: last && last.seq > head.anchor_seq ? last.hash : null, anchor_seq: head.anchor_seq };
  }

  /** The current head when the purge job has moved the anchor to `seq` or beyond meanwhile. */
  private async purgedUpTo(tenant: string, seq: number): Promise<AuditChainEntity | null> {
    const now = await this.head(tenant);
    return now && now.anchor_seq >= seq ? now : null;
  }

  private fromAnchor(head: AuditChainEntity) {
    const anchor = { seq: head.anchor_seq, hash: head.anchor_hash };
    return { head, expected: head.anchor_seq + 1, prevHash: head.anchor_hash, last: anchor as Link | undefined };
  }

  private head(tenant: string): Promise<AuditChainEntity | null> {
    return this.ds.getRepository(AuditChainEntity).findOneBy({ tenant_id: tenant });
  }

  private broken(
    head: AuditChainEntity,
    checked: number,
    first: number | undefined,
    last: Link | undefined,
    at: { seq: number; reason: ChainBreakReason; event_id?: string },
  ): Reply {
    return {
      ok: false,
      checked,
      first_seq: first ?? null,
      last_seq: last?.seq ?? null,
      last_hash: last?.hash ?? null,
      anchor_seq: head.anchor_seq,
      first_broken: { seq: at.seq, reason: at.reason, ...(at.event_id ? { event_id: at.event_id } : {}) },
    };
  }
}
