import { describe, expect, it } from 'vitest';
import { cursorName, tenantOfCursor } from './event-feed.service.js';

describe('event cursor names', () => {
  it("give back the tenant of a cursor's JetStream name, whatever the cursor's own name", () => {
    for (const cursor of ['billing', 'crm_sync', 'a-b_c_d']) expect(tenantOfCursor(cursorName('ten_abc12345', cursor))).toBe('ten_abc12345');
  });

  it('name no tenant for other consumers', () => {
    for (const name of ['webhook-delivery', 'feed_', 'feed_ten_short_x', 'feed_tok_abc12345_x', 'audit-writer']) expect(tenantOfCursor(name)).toBeUndefined();
  });
});
