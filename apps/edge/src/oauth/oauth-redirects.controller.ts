import { Controller, Get, Inject, Param, Query, Res } from '@nestjs/common';
import { httpStatusOf, isVmcpError, policy, vault, VmcpError } from '@vmcp/contracts';
import { Bus } from '@vmcp/messaging';
import { VMCP_LOGGER } from '@vmcp/runtime';
import type { Logger } from '@vmcp/telemetry';
import type { Response } from 'express';

/**
 * The browser side of OAuth connected accounts. A user opens an authorization link and is
 * sent to the provider; the provider sends them back to the callback, which has the vault
 * exchange the code, marks the account ACTIVE and sends them on to the tenant's app (or
 * shows a plain page). These routes take no API key: the signed, single-use state is the
 * authorization, and it is checked in the vault before anything else.
 */
@Controller('oauth')
export class OAuthRedirectsController {
  constructor(
    private readonly bus: Bus,
    @Inject(VMCP_LOGGER) private readonly logger: Logger,
  ) {}

  @Get('authorize/:state')
  async authorize(@Param('state') state: string, @Res() res: Response): Promise<void> {
    noStore(res);
    try {
      const { authorize_url } = await this.bus.request(vault.openAuthorizationLink, { state: vault.OAuthState.parse(state) });
      res.redirect(302, authorize_url);
    } catch (err) {
      page(res, failureStatus(err), 'Authorization link not usable', describe(err));
    }
  }

  @Get('callback')
  async callback(@Query() query: Record<string, unknown>, @Res() res: Response): Promise<void> {
    noStore(res);
    const params = callbackParams(query);
    if (!params) {
      page(res, 400, 'Authorization failed', 'The provider sent an incomplete or malformed response (no valid state).');
      return;
    }
    let outcome;
    try {
      outcome = await this.bus.request(vault.completeAuthorization, params);
    } catch (err) {
      page(res, failureStatus(err), 'Authorization failed', describe(err));
      return;
    }
    if (outcome.outcome === 'denied') {
      if (outcome.redirect_url) return void res.redirect(302, withParams(outcome.redirect_url, { status: 'error', error: outcome.error, connected_account_id: outcome.account_id }));
      page(res, 400, 'Authorization not granted', `The provider answered "${outcome.error}". Nothing was stored; you can close this window and try again.`);
      return;
    }
    try {
      await this.bus.request(policy.setAccountStatus, { tenant_id: outcome.tenant_id, account_id: outcome.account_id, status: 'ACTIVE' });
    } catch (err) {
      // The tokens are stored; only the status is behind. Saying so beats a false success.
      this.logger.error({ account_id: outcome.account_id, err: (err as Error).message }, 'authorized account could not be marked ACTIVE');
      page(res, 503, 'Authorization incomplete', 'The account was authorized but could not be activated; please try again in a moment.');
      return;
    }
    if (outcome.redirect_url) return void res.redirect(302, withParams(outcome.redirect_url, { status: 'success', connected_account_id: outcome.account_id }));
    page(res, 200, 'Account connected', 'The account is connected. You can close this window.');
  }
}

/** The callback's query as the vault takes it; undefined without a well-formed state. */
function callbackParams(query: Record<string, unknown>) {
  const pick = (k: string) => (typeof query[k] === 'string' ? (query[k] as string) : undefined);
  const parsed = vault.completeAuthorization.request.safeParse(
    Object.fromEntries(
      Object.entries({ state: pick('state'), code: pick('code'), error: pick('error'), error_description: pick('error_description'), iss: pick('iss') }).filter(
        ([, v]) => v !== undefined,
      ),
    ),
  );
  return parsed.success ? parsed.data : undefined;
}

function failureStatus(err: unknown): number {
  if (!isVmcpError(err)) return 400;
  // A browser page, not an API: an unusable link (expired, used) or refused code is a bad request.
  return err.code === 'FAILED_PRECONDITION' ? 400 : httpStatusOf(err.code);
}

function describe(err: unknown): string {
  if (isVmcpError(err)) return err.message;
  if (err instanceof Error && err.name === 'ZodError') return 'The link is malformed.';
  return new VmcpError('INTERNAL', 'internal error').message;
}

function withParams(url: string, params: Record<string, string>): string {
  const u = new URL(url);
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  return u.toString();
}

function noStore(res: Response): void {
  // The callback URL holds a code: no caching, no Referer to whatever the page links to.
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Referrer-Policy', 'no-referrer');
}

function page(res: Response, status: number, title: string, text: string): void {
  res
    .status(status)
    .setHeader('Content-Security-Policy', "default-src 'none'")
    .type('html')
    .send(`<!doctype html><html><head><meta charset="utf-8"><title>${escape(title)}</title></head><body><h1>${escape(title)}</h1><p>${escape(text)}</p></body></html>`);
}

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
