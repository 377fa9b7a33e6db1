import { paginate } from '../pagination.js';
import type { Requester } from '../transport.js';
import type { KeyRotation, KeyRotationFilter, KeyRotationPage, PageRequest, StartKeyRotationInput } from '../types.js';

/** Re-encryption of stored credentials under a new key, running in the background. */
export class KeyRotations {
  constructor(private readonly transport: Requester) {}

  /** `{scope: 'master'}` (admin key) or `{scope: 'tenant'}`; poll `get` for progress. */
  start(input: StartKeyRotationInput): Promise<{ key_rotation: KeyRotation }> {
    return this.transport.json('keyRotations.start', { body: input });
  }

  list(filter: KeyRotationFilter & PageRequest = {}): Promise<KeyRotationPage> {
    return this.transport.json('keyRotations.list', { query: filter });
  }

  /** Every matching rotation, newest first, page after page as the loop gets there. */
  iterate(filter: KeyRotationFilter = {}): AsyncIterable<KeyRotation> {
    return paginate((page_token) => this.list({ ...filter, page_token }), (p) => p.key_rotations);
  }

  get(id: string): Promise<{ key_rotation: KeyRotation }> {
    return this.transport.json('keyRotations.get', { params: { id } });
  }
}
