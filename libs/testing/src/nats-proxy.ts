import { createConnection, createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface NatsProxy {
  /** Where a service connects instead of the server (its NATS_URL). */
  readonly url: string;
  /**
   * Holds back the client's publishes whose subject matches, without failing them: the
   * server gets them on release(), after the client may have given up waiting for a reply.
   */
  hold(subject: RegExp): void;
  /** Forwards everything held, stops holding, and returns how many messages were held. */
  release(): number;
  /** How many messages are held now. */
  held(): number;
  close(): Promise<void>;
}

const CRLF = Buffer.from('\r\n');

/**
 * A TCP proxy in front of a nats-server that understands just enough of the client
 * protocol (PUB/HPUB framing) to delay chosen publishes: for faults that no clean
 * server stop can produce, such as a publish stored after its acknowledgement timed out.
 * A connection whose server side drops is dropped too, so clients reconnect through it.
 */
export async function startNatsProxy(target: string): Promise<NatsProxy> {
  const { hostname, port } = new URL(target);
  let holding: RegExp | undefined;
  const heldBack: Array<{ upstream: Socket; frame: Buffer }> = [];
  const sockets = new Set<Socket>();

  const server = createServer((client) => {
    const upstream = createConnection({ host: hostname, port: Number(port) });
    sockets.add(client).add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    upstream.on('data', (d) => client.write(d));

    let pending: Buffer = Buffer.alloc(0);
    client.on('data', (d: Buffer) => {
      pending = pending.length ? Buffer.concat([pending, d]) : d;
      for (;;) {
        const eol = pending.indexOf(CRLF);
        if (eol < 0) return;
        const line = pending.subarray(0, eol).toString('latin1');
        const [op, ...args] = line.split(' ');
        const verb = op!.toUpperCase();
        // PUB <subject> [reply] <size>; HPUB <subject> [reply] <header size> <total size>: a payload line follows.
        const size = verb === 'PUB' || verb === 'HPUB' ? Number(args.at(-1)) : -1;
        const end = size >= 0 ? eol + 2 + size + 2 : eol + 2;
        if (pending.length < end) return;
        const frame = Buffer.from(pending.subarray(0, end));
        pending = pending.subarray(end);
        if (size >= 0 && holding?.test(args[0]!)) heldBack.push({ upstream, frame });
        else upstream.write(frame);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));

  return {
    url: `nats://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hold(subject) {
      holding = subject;
    },
    release() {
      holding = undefined;
      const frames = heldBack.splice(0);
      for (const { upstream, frame } of frames) if (!upstream.destroyed) upstream.write(frame);
      return frames.length;
    },
    held: () => heldBack.length,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
