import { createHash, randomBytes } from 'node:crypto';
import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { Kvm, type KV, type KvEntry } from '@nats-io/kv';
import { VMCP_CONFIG, type VmcpConfig } from '@vmcp/config';
import { ConfigId, edge, executor, Identifier, TenantId, TokenId, VmcpError, type SessionPrincipal } from '@vmcp/contracts';
import { VMCP_LOGGER } from '@vmcp/runtime';
import type { Logger } from '@vmcp/telemetry';
import { Bus } from '@vmcp/messaging';
import { z } from 'zod';

/**
 * What a 2025-era MCP session is, stored in the sessions KV bucket so that any edge
 * replica can serve it. The principal fields bind it to the user who opened it.
 */
export const SessionRecord = z.object({
  tenant_id: TenantId,
  config_id: ConfigId,
  identifier: Identifier,
  /** The token that opened the session (later requests may carry a newer one of the same user). */
  token_id: TokenId.nullable(),
  /** The protocol version `initialize` negotiated. */
  protocol_version: z.string().max(32),
  client_capabilities: z.record(z.string(), z.unknown()),
  client_info: z.record(z.string(), z.unknown()),
  created_at: z.iso.datetime(),
  /**
   * The level the client set with `logging/setLevel`: its calls get the upstream's log
   * messages at that level or above. Absent (records from before, or never set): none.
   */
  log_level: executor.LoggingLevel.optional(),
});
export type SessionRecord = z.infer<typeof SessionRecord>;

/** 128 random bits, base64url: exactly what `create` hands out. */
const SESSION_ID = /^[A-Za-z0-9_-]{22}$/;
/** Capabilities and client info are the client's own words: bounded before they are stored. */
export const MAX_SESSION_RECORD_BYTES = 16 * 1024;
/** A session in use is written again at most this often (and at least four times per idle period). */
const MAX_TOUCH_INTERVAL_MS = 5000;
/** Sessions a replica holds a copy of; the oldest go first. */
const MAX_HELD = 20_000;
/** Compare-and-set attempts of a record change that keeps meeting another replica's write. */
const MAX_CHANGE_ATTEMPTS = 3;

export function isSessionId(value: string): boolean {
  return SESSION_ID.test(value);
}

/** The key of a session: a digest, so the bucket (and the bus) never holds a usable session id. */
export function keyOf(sessionId: string): string {
  return createHash('sha256').update(sessionId).digest('base64url');
}

export function boundTo(record: SessionRecord, principal: SessionPrincipal): boolean {
  return record.tenant_id === principal.tenant_id && record.config_id === principal.config_id && record.identifier === principal.identifier;
}

interface Held {
  readonly record: SessionRecord;
  /** When the KV entry was last written: the idle clock. */
  writtenAt: number;
  /** When this copy was read from KV. */
  readonly readAt: number;
}

/**
 * 2025-era MCP sessions in a NATS KV bucket: no replica owns one, so a client keeps its
 * session when the replica it started on goes away. The bucket's TTL is the idle
 * timeout; a session in use is written again (at most every few seconds) to stay.
 *
 * A replica keeps a copy of a session it read for a few seconds (the touch interval), so a
 * busy session costs one KV read per interval instead of one per request. An ended
 * or changed session is dropped everywhere at once by the `session_ended` and
 * `session_changed` events; a replica that missed the event (a reconnect) uses its copy at
 * most until the interval ends.
 * Operations that reach KV throw VmcpError UNAVAILABLE when NATS cannot be reached.
 */
@Injectable()
export class McpSessionsService implements OnModuleInit, OnApplicationShutdown {
  private opening?: Promise<KV>;
  private readonly idleMs: number;
  private readonly touchIntervalMs: number;
  private readonly held = new Map<string, Held>();
  private readonly subscriptions: Array<{ unsubscribe(): void }> = [];
  /** Counts the drop events heard: a read that overlapped one keeps no copy (it may predate the change). */
  private drops = 0;

  constructor(
    @Inject(VMCP_CONFIG) private readonly config: VmcpConfig,
    private readonly bus: Bus,
    @Inject(VMCP_LOGGER) private readonly logger: Logger,
  ) {
    this.idleMs = config.mcp.sessionIdleSeconds * 1000;
    this.touchIntervalMs = Math.min(MAX_TOUCH_INTERVAL_MS, this.idleMs / 4);
  }

  onModuleInit(): void {
    const drop = ({ key }: { key: string }) => {
      this.drops++;
      this.held.delete(key);
    };
    this.subscriptions.push(this.bus.subscribe(edge.sessionEnded, drop), this.bus.subscribe(edge.sessionChanged, drop));
    // Made ahead of the first initialize; a failure here is retried on use.
    void this.kv().catch((err: Error) => this.logger.warn({ err: err.message }, 'MCP sessions bucket not available yet'));
  }

  onApplicationShutdown(): void {
    for (const subscription of this.subscriptions) subscription.unsubscribe();
  }

  private kv(): Promise<KV> {
    this.opening ??= this.open().catch((err: unknown) => {
      this.opening = undefined;
      throw err;
    });
    return this.opening;
  }

  /** One KV operation; a failure of the store is UNAVAILABLE (the client may retry). */
  private async store<T>(operation: (kv: KV) => Promise<T>): Promise<T> {
    try {
      return await operation(await this.kv());
    } catch (err) {
      this.logger.warn({ err: (err as Error).message.slice(0, 300) }, 'MCP sessions bucket unavailable');
      throw new VmcpError('UNAVAILABLE', 'MCP sessions are unavailable now');
    }
  }

  private async open(): Promise<KV> {
    const bucket = this.config.mcp.sessionsBucket;
    // Creating an existing bucket opens it as it is: another replica may have made it.
    const kv = await new Kvm(this.bus.connection).create(bucket, { history: 1, ttl: this.idleMs, replicas: this.bus.jetstreamReplicas });
    const { ttl } = await kv.status();
    if (ttl > 0 && ttl < this.idleMs) {
      this.logger.warn({ bucket, bucket_ttl_ms: ttl, idle_ms: this.idleMs }, 'sessions bucket expires entries sooner than VMCP_SESSION_IDLE_SECONDS');
    }
    return kv;
  }

  /** Stores a new session and returns its id (never stored as such, see keyOf). */
  async create(record: SessionRecord): Promise<string> {
    const value = JSON.stringify(SessionRecord.parse(record));
    const id = randomBytes(16).toString('base64url');
    await this.store((kv) => kv.create(keyOf(id), value));
    return id;
  }

  /** The live session with this id, or undefined (unknown, ended, idle too long). */
  async get(sessionId: string): Promise<SessionRecord | undefined> {
    if (!isSessionId(sessionId)) return undefined;
    const key = keyOf(sessionId);
    const now = Date.now();
    const copy = this.held.get(key);
    if (copy && now - copy.readAt < this.touchIntervalMs) {
      if (now - copy.writtenAt <= this.idleMs) return copy.record;
      this.held.delete(key);
      return undefined;
    }
    return this.read(key, now);
  }

  /**
   * Reads a session from KV. One last written a while ago is written again, only if
   * nobody changed it since (so a concurrent DELETE is never undone).
   */
  private async read(key: string, now: number): Promise<SessionRecord | undefined> {
    const drops = this.drops;
    const entry = await this.store((kv) => kv.get(key));
    this.held.delete(key);
    const record = this.live(entry, now);
    if (!entry || !record) return undefined;
    // A session ended or changed while we read may have been read as it was before: used
    // for this request (which raced the change), but not kept for the next ones.
    if (this.drops !== drops) return record;
    const writtenAt = entry.created.getTime();
    const copy: Held = { record, writtenAt, readAt: now };
    if (this.held.size >= MAX_HELD) {
      const oldest = this.held.keys().next();
      if (!oldest.done) this.held.delete(oldest.value);
    }
    this.held.set(key, copy);
    if (now - writtenAt > this.touchIntervalMs) {
      const touched = this.kv().then((kv) => kv.update(key, entry.value, entry.revision));
      touched.then(
        () => {
          copy.writtenAt = Date.now();
        },
        (err: Error) => {
          // Someone else wrote or deleted it first: theirs stands, and our copy goes.
          if (this.held.get(key) === copy) this.held.delete(key);
          this.logger.debug({ err: err.message }, 'session not refreshed');
        },
      );
    }
    return copy.record;
  }

  /** The record of a KV entry, if it is a live session's. */
  private live(entry: KvEntry | null, now: number): SessionRecord | undefined {
    if (!entry || entry.operation !== 'PUT') return undefined;
    // The bucket's TTL removes it a little later (and may be longer than our setting).
    if (now - entry.created.getTime() > this.idleMs) return undefined;
    try {
      const parsed = SessionRecord.safeParse(entry.json());
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Stores the session's log level (`logging/setLevel`): a compare-and-set on the revision
   * read, like the refresh, so it never revives an ended session and never loses to (or
   * undoes) another replica's write; tried again when one came first. Then every replica
   * drops its copy, so the session's next call uses the new level wherever it goes.
   * False when the session is gone.
   */
  async setLogLevel(sessionId: string, level: executor.LoggingLevel): Promise<boolean> {
    if (!isSessionId(sessionId)) return false;
    const key = keyOf(sessionId);
    for (let attempt = 0; attempt < MAX_CHANGE_ATTEMPTS; attempt++) {
      const entry = await this.store((kv) => kv.get(key));
      const record = this.live(entry, Date.now());
      if (!entry || !record) return false;
      const written = await this.kv()
        .then((kv) => kv.update(key, JSON.stringify(SessionRecord.parse({ ...record, log_level: level })), entry.revision))
        .then(
          () => true,
          (err: Error) => {
            this.logger.debug({ err: err.message.slice(0, 300) }, 'session change met another write');
            return false;
          },
        );
      if (!written) continue;
      this.held.delete(key);
      this.bus.publish(edge.sessionChanged, { key });
      // On the server before the client hears `{}`: its next request may go to another replica.
      await this.bus.flush().catch(() => {
        throw new VmcpError('UNAVAILABLE', 'MCP sessions are unavailable now');
      });
      return true;
    }
    throw new VmcpError('UNAVAILABLE', 'MCP sessions are unavailable now');
  }

  /** Ends a session for every replica. */
  async delete(sessionId: string): Promise<void> {
    if (!isSessionId(sessionId)) return;
    const key = keyOf(sessionId);
    this.held.delete(key);
    await this.store((kv) => kv.delete(key));
    this.bus.publish(edge.sessionEnded, { key });
    // On the server before the client hears `200`: its next request may go to another replica.
    // (The session is gone from the store either way: a replica that misses the event stops
    // serving its held copy at its next read, within the touch interval.)
    await this.bus.flush().catch((err: Error) => this.logger.warn({ err: err.message.slice(0, 300) }, 'session end not confirmed on the bus'));
  }
}
