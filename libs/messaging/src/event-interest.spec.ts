import { describe, expect, it } from 'vitest';
import { takesToolCallEvents } from './event-interest.js';

describe('takesToolCallEvents', () => {
  it('is true for every type (none given, or `*`) and for any tool-call type', () => {
    expect(takesToolCallEvents(undefined)).toBe(true);
    expect(takesToolCallEvents([])).toBe(true);
    expect(takesToolCallEvents(['*'])).toBe(true);
    expect(takesToolCallEvents(['tool_call.finished'])).toBe(true);
    expect(takesToolCallEvents(['connected_account.status_changed', 'tool_call.denied'])).toBe(true);
  });

  it('is false for subscriptions to other types only', () => {
    expect(takesToolCallEvents(['connected_account.status_changed'])).toBe(false);
  });
});
