import { vaultKeys } from '@vmcp/contracts';
import type { DataKeysService } from '../src/keys/data-keys.service.js';
import type { KeyEncryptionKeyProvider } from '../src/keys/key-encryption-key.provider.js';
import { DEFAULT_KEY_ROTATION_SETTINGS, KeyRotationRunner, type KeyRotationSettings } from '../src/key-rotations/key-rotation.runner.js';
import { ReadRotationsController } from '../src/key-rotations/read-rotations/read-rotations.controller.js';
import { ReadRotationsHandler } from '../src/key-rotations/read-rotations/read-rotations.handler.js';
import { StartRotationController } from '../src/key-rotations/start-rotation/start-rotation.controller.js';
import { StartRotationHandler } from '../src/key-rotations/start-rotation/start-rotation.handler.js';
import { natsContext, type VaultControllers, type VaultFixture } from './vault-fixture.js';

/** A vault replica with its key-rotation pieces, wired as VaultModule wires them. */
export interface RotationReplica extends VaultControllers {
  readonly kek: KeyEncryptionKeyProvider;
  readonly runner: KeyRotationRunner;
  startMaster(body?: unknown): ReturnType<StartRotationController['master']>;
  startTenant(body: unknown): ReturnType<StartRotationController['tenant']>;
  get(body: unknown): ReturnType<ReadRotationsController['get']>;
  list(body: unknown): ReturnType<ReadRotationsController['list']>;
}

export interface RotationReplicaOptions {
  readonly settings?: Partial<KeyRotationSettings>;
  /**
   * Start and get kick the runner into the background, as in the service. Off by default:
   * the tests run the runner themselves (`runner.runPending`) to control every step.
   */
  readonly autoRun?: boolean;
  /** Another DataKeysService for the runner (e.g. one that injects a race). */
  readonly runnerKeys?: (replicaKeys: DataKeysService) => DataKeysService;
}

export function rotationReplica(f: VaultFixture, kek: KeyEncryptionKeyProvider, options: RotationReplicaOptions = {}): RotationReplica {
  const v = f.replica(kek);
  const settings = { ...DEFAULT_KEY_ROTATION_SETTINGS, batchSize: 2, ...options.settings };
  const runner = new KeyRotationRunner(f.ds, options.runnerKeys?.(v.keys) ?? v.keys, kek, f.logger, settings);
  const kicker = options.autoRun ? runner : ({ kick: () => undefined } as unknown as KeyRotationRunner);
  const start = new StartRotationController(new StartRotationHandler(f.ds, v.keys, kek, kicker, f.logger));
  const read = new ReadRotationsController(new ReadRotationsHandler(f.ds, kicker));
  return {
    ...v,
    kek,
    runner,
    startMaster: (body = {}) => start.master(body, natsContext(vaultKeys.startMasterRotation.subject)),
    startTenant: (body) => start.tenant(body, natsContext(vaultKeys.startTenantRotation.subject)),
    get: (body) => read.get(body, natsContext(vaultKeys.getRotation.subject)),
    list: (body) => read.list(body, natsContext(vaultKeys.listRotations.subject)),
  };
}

/** The rotation in a reply, or a failure that names the error the reply carried. */
export function rotationOf(reply: unknown): vaultKeys.KeyRotation {
  const parsed = vaultKeys.startMasterRotation.reply.safeParse(reply);
  if (!parsed.success) throw new Error(`expected a key rotation, got ${JSON.stringify(reply)}`);
  return parsed.data.key_rotation;
}
