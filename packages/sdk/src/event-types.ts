import type { ConnectedAccount, ErrorCode, ToolCallLog } from './types.js';

// The tenant's events as the event feed (`vmcp.events.subscribe`) and the webhook deliver
// them. The SDK's own copy of the gateway's event contract (it depends on no internal lib):
// packages/sdk/test/bus-api-drift.spec.ts keeps EVENT_TYPES equal to the gateway's list.
// Wire-compatible and public: fields are added, never renamed or removed in place.

/** Every event type this version of the SDK knows, e.g. to subscribe to all tool-call outcomes. */
export const EVENT_TYPES = ['connected_account.status_changed', 'tool_call.started', 'tool_call.finished', 'tool_call.denied'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/**
 * What every event has, whatever its type: enough to route it and to keep it unchanged,
 * including types newer than this SDK.
 */
export interface EventEnvelope {
  /** Unique per event and the same on every delivery: the key to drop duplicates with. */
  readonly event_id: string;
  readonly type: string;
  readonly tenant_id: string;
  readonly occurred_at: string;
  readonly data: Readonly<Record<string, unknown>>;
}

/** A connected account's status changed (only sent when it really changed). No secret is part of it. */
export interface ConnectedAccountStatusChanged extends EventEnvelope {
  readonly type: 'connected_account.status_changed';
  /** When the change was committed. */
  readonly occurred_at: string;
  readonly data: {
    readonly connected_account_id: string;
    readonly connection_name: string;
    readonly identifier: string;
    readonly previous_status: ConnectedAccount['status'];
    readonly status: ConnectedAccount['status'];
  };
}

/**
 * What every tool-call event says about the call: the audit trail's facts, never a
 * credential. `arguments` and `result` are there only when the call's config captures
 * payloads, redacted and capped as in the audit trail. (A type, not an interface, so that
 * it fits the envelope's `data` record.)
 */
export type ToolCallFacts = {
  readonly execution_id: string;
  readonly config_id: string | null;
  readonly connection_name: string | null;
  readonly connector: string | null;
  readonly connected_account_id: string | null;
  readonly identifier: string;
  readonly tool_name: string;
  /** `mcp` (an agent's tools/call) or `api` (execute_tool). */
  readonly source: ToolCallLog['source'];
  readonly agent_run_id: string | null;
  readonly started_at: string;
};

/** A call was allowed and is about to run. `occurred_at` is when it started. */
export interface ToolCallStarted extends EventEnvelope {
  readonly type: 'tool_call.started';
  readonly data: ToolCallFacts & { readonly status: 'STARTED'; readonly arguments?: unknown };
}

/** A call ran: `SUCCESS`, or `ERROR` with a code (`UPSTREAM_ERROR` for a tool's own error result). */
export interface ToolCallFinished extends EventEnvelope {
  readonly type: 'tool_call.finished';
  readonly data: ToolCallFacts & {
    readonly status: 'SUCCESS' | 'ERROR';
    readonly error_code: ErrorCode | null;
    readonly error_message: string | null;
    readonly finished_at: string;
    readonly duration_ms: number;
    readonly result?: unknown;
  };
}

/** A call was refused before any effect; `error_code` says why (TOOL_NOT_FOUND, ACCOUNT_NOT_ACTIVE, …). */
export interface ToolCallDenied extends EventEnvelope {
  readonly type: 'tool_call.denied';
  readonly data: ToolCallFacts & {
    readonly status: 'DENIED';
    readonly error_code: ErrorCode;
    readonly error_message: string;
    readonly finished_at: string;
    readonly duration_ms: number;
    readonly arguments?: unknown;
  };
}

/**
 * Any event this SDK knows, discriminated by `type`. A gateway newer than the SDK may send
 * a type it does not list yet (with the envelope's fields): give a `switch` a default.
 */
export type VmcpEvent = ConnectedAccountStatusChanged | ToolCallStarted | ToolCallFinished | ToolCallDenied;

/** The event of one of the given types. */
export type EventOfType<T extends EventType> = Extract<VmcpEvent, { type: T }>;

/** One event as the feed delivered it to a cursor. */
export interface EventDelivery<E extends EventEnvelope = VmcpEvent> {
  readonly event: E;
  /** The event's position in the tenant's feed, increasing. */
  readonly seq: number;
  /** How often it was delivered: more than 1 after a reader did not acknowledge it in time. */
  readonly deliveries: number;
  /**
   * Acknowledges it now, and every other delivery of the same event this iterator dropped
   * as a duplicate: the cursor will not hand it out again. Settles once the gateway
   * confirmed; calling it again does nothing.
   */
  ack(): Promise<void>;
}

/** One raw entry of an `events.pull` reply. */
export interface PulledEvent {
  /** What acknowledges this delivery (events.ack). */
  readonly ack_id: string;
  readonly seq: number;
  readonly deliveries: number;
  readonly event: EventEnvelope;
}

/** The reply of `events.pull`. */
export interface PulledEvents {
  readonly events: PulledEvent[];
  /** Unacknowledged events of this batch come again after this long. */
  readonly redeliver_after_ms: number;
}

/** Where a new cursor starts: at the next event (`new`, the default) or at the oldest one kept (`all`). Ignored for an existing cursor. */
export type EventStart = 'new' | 'all';

/** The request of `events.pull`, as on the wire. */
export interface PullEventsInput {
  /** The cursor's name ("billing"), in the tenant's own namespace. */
  readonly consumer: string;
  /** Event types to receive; all when absent. Fixed when the cursor is made. */
  readonly types?: readonly string[];
  readonly start?: EventStart;
  /** Most events in one reply (1 to 256, default 64). */
  readonly max_events?: number;
  /** How long the gateway waits for a first event when none is pending (0 to 30 000 ms, default 5 000). */
  readonly wait_ms?: number;
}
