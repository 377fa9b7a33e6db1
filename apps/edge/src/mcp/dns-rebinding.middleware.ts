import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import { VMCP_CONFIG, type VmcpConfig } from '@vmcp/config';
import { VMCP_LOGGER } from '@vmcp/runtime';
import type { Logger } from '@vmcp/telemetry';
import type { NextFunction, Request, Response } from 'express';

/** Names of the local machine: any of them stands for any other when the gateway itself is local. */
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** `host[:port]` as it may appear in a Host header; group 1 is the host name. */
const HOST_HEADER = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::\d{1,5})?$/;

type Refusal = 'host' | 'origin';

/**
 * The rules of the check: the Host names and Origins the MCP endpoint answers. When
 * VMCP_PUBLIC_URL is itself a loopback address (development), every loopback name on
 * every port is accepted too: a rebinding page cannot make a browser send those.
 */
class HostRules {
  private readonly hosts: ReadonlySet<string>;
  private readonly origins: ReadonlySet<string>;
  private readonly loopback: boolean;

  constructor(config: Pick<VmcpConfig, 'publicUrl' | 'allowedHosts' | 'allowedOrigins'>) {
    this.hosts = new Set(config.allowedHosts);
    this.origins = new Set(config.allowedOrigins);
    this.loopback = LOOPBACK.has(new URL(config.publicUrl).hostname);
  }

  /** Why a request with these headers is refused, or undefined when it may go on. */
  refusal(host: string | undefined, origin: string | undefined): Refusal | undefined {
    const hostName = host === undefined ? undefined : HOST_HEADER.exec(host.toLowerCase())?.[1]?.replace(/\.$/, '');
    if (hostName === undefined || !this.allowsHost(hostName)) return 'host';
    if (origin !== undefined) {
      const url = URL.parse(origin);
      if (!url || !/^https?:$/.test(url.protocol) || !(this.origins.has(url.origin) || (this.loopback && LOOPBACK.has(url.hostname)))) return 'origin';
    }
    return undefined;
  }

  private allowsHost(name: string): boolean {
    return this.hosts.has(name) || (this.loopback && LOOPBACK.has(name));
  }
}

const MESSAGES: Record<Refusal, string> = {
  host: 'Host header not allowed (an operator can add the name to VMCP_ALLOWED_HOSTS)',
  origin: 'Origin header not allowed (an operator can add it to VMCP_ALLOWED_ORIGINS)',
};

/**
 * DNS-rebinding protection of the MCP endpoint (MCP transports: servers MUST validate
 * Origin; SDK advisory GHSA-w48q-cv73-mx4w). A page whose own name resolves to the
 * gateway's address can make a browser send it requests, but only under that page's
 * Host and Origin; so a request naming a host or origin that is not ours gets 403 before
 * authentication or any bus request. A request without Origin (any non-browser client)
 * is judged by its Host alone.
 */
@Injectable()
export class DnsRebindingMiddleware implements NestMiddleware {
  private readonly rules: HostRules;

  constructor(
    @Inject(VMCP_CONFIG) config: VmcpConfig,
    @Inject(VMCP_LOGGER) private readonly logger: Logger,
  ) {
    this.rules = new HostRules(config);
  }

  use(req: Request, res: Response, next: NextFunction): void {
    const origin = req.headers.origin;
    const refusal = this.rules.refusal(req.headers.host, origin);
    if (!refusal) {
      next();
      return;
    }
    // Names, not secrets; cut short so a hostile header cannot flood the log.
    this.logger.warn({ host: req.headers.host?.slice(0, 100), origin: origin?.slice(0, 100) }, `MCP request refused: ${refusal} not allowed`);
    res.status(403).json({ jsonrpc: '2.0', error: { code: -32000, message: MESSAGES[refusal] }, id: null });
  }
}
