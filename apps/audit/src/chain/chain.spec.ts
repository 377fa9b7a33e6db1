import type { AuditEvent } from '@vmcp/contracts';
import { describe, expect, it } from 'vitest';
import { checkLink, GENESIS_HASH, linkHash, recordText, type StoredLink } from './chain.js';

const tenant = 'ten_0000000000000000000001';
const event = (n: number): AuditEvent => ({
  type: 'started',
  event_id: `evt_${n}`,
  execution_id: 'exe_0000000000000000000001',
  tenant_id: tenant,
  config_id: null,
  connection_name: null,
  connector: null,
  connected_account_id: null,
  identifier: 'alice',
  tool_name: 'lookup',
  source: 'mcp',
  agent_run_id: null,
  started_at: '2026-11-24T10:00:00.000Z',
});

/** A well-formed chain of n records. */
function chain(n: number): StoredLink[] {
  const out: StoredLink[] = [];
  let prev = GENESIS_HASH;
  for (let seq = 1; seq <= n; seq++) {
    const record = recordText({ tenant_id: tenant, seq, recorded_at: '2026-11-24T10:00:01.000Z', event: event(seq) });
    const hash = linkHash(prev, record);
    out.push({ seq, record, prev_hash: prev, hash });
    prev = hash;
  }
  return out;
}

/** What a verifier walking rows in stored order reports first. */
function firstBreak(rows: StoredLink[]) {
  let prev = GENESIS_HASH;
  let expected = 1;
  for (const row of rows) {
    const reason = checkLink(row, tenant, expected, prev);
    if (reason) return { seq: reason === 'missing' ? expected : row.seq, reason };
    prev = row.hash;
    expected++;
  }
  return undefined;
}

describe('the hash chain', () => {
  it('links each record to the one before it by SHA-256 over prev_hash and the canonical record', () => {
    const rows = chain(3);
    expect(firstBreak(rows)).toBeUndefined();
    expect(rows[1]!.prev_hash).toBe(rows[0]!.hash);
    expect(rows[0]!.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.parse(rows[2]!.record)).toMatchObject({ v: 1, seq: 3, tenant_id: tenant, event: { event_id: 'evt_3' } });
  });

  it('names the first broken link: an edit, a gap, a swap, a replaced record', () => {
    const edited = chain(5);
    edited[2] = { ...edited[2]!, record: edited[2]!.record.replace('alice', 'mallory') };
    expect(firstBreak(edited)).toEqual({ seq: 3, reason: 'hash_mismatch' });

    const gap = chain(5);
    gap.splice(1, 1);
    expect(firstBreak(gap)).toEqual({ seq: 2, reason: 'missing' });

    // Seq columns swapped: each row still hashes right but sits where it does not belong.
    const swapped = chain(5);
    const [r2, r3] = [swapped[1]!, swapped[2]!];
    swapped[1] = { ...r3, seq: 2 };
    swapped[2] = { ...r2, seq: 3 };
    expect(firstBreak(swapped)).toEqual({ seq: 2, reason: 'reordered' });

    // A record rewritten with a self-consistent hash no longer follows its predecessor.
    const replaced = chain(5);
    const record = replaced[3]!.record.replace('alice', 'mallory');
    replaced[3] = { seq: 4, record, prev_hash: GENESIS_HASH, hash: linkHash(GENESIS_HASH, record) };
    expect(firstBreak(replaced)).toEqual({ seq: 4, reason: 'prev_mismatch' });
  });
});
