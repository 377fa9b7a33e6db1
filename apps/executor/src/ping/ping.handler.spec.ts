import { ping } from '@vmcp/contracts';
import { VMCP_VERSION } from '@vmcp/telemetry';
import { describe, expect, it } from 'vitest';
import { pong } from './ping.handler.js';

describe('pong', () => {
  it('says the executor is ready, in the shape the contract wants', () => {
    expect(ping.executor.reply.parse(pong())).toEqual({ service: 'executor', ready: true, version: VMCP_VERSION });
  });
});
