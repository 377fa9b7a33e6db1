import type { Requester } from '../transport.js';
import type { RevokedToken } from '../types.js';

/** Session tokens minted with `configs.mintToken`. */
export class Tokens {
  constructor(private readonly transport: Requester) {}

  /** Revokes the token on every replica; the agent's next request is refused. */
  revoke(tokenId: string): Promise<RevokedToken> {
    return this.transport.json('tokens.revoke', { params: { token_id: tokenId } });
  }
}
