// Credential resolution inside a tool call, as the executor sees it: one NATS request to the
// vault, which checks policy's grant, reads the row and decrypts (static credential, and an
// OAuth access token that needs no refresh). Then refresh single-flight: 100 concurrent
// resolves of an account whose access token the upstream just refused, against a real
// authorization server (oidc-provider): how many refreshes reach it, and how long all take.
//   npm run bench            (runs every benchmark)
//   BENCH_RESOLVES=5000 node bench/credential-resolve.bench.mjs
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { Bus } from '@vmcp/messaging';
import { newId, policy, vault } from '@vmcp/contracts';
import { createGrantSigner, databaseEnv, startInProcessService, startNatsServer, startOAuthProvider } from '@vmcp/testing';
import { VaultModule } from '../apps/vault/dist/vault.module.js';

const RESOLVES = Number(process.env.BENCH_RESOLVES ?? 3000);
const CONCURRENT_REFRESHES = 100;

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function measure(label, once) {
  for (let i = 0; i < 200; i++) await once();
  const latencies = [];
  const started = performance.now();
  for (let i = 0; i < RESOLVES; i++) {
    const t0 = performance.now();
    await once();
    latencies.push(performance.now() - t0);
  }
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  console.log(
    `${label.padEnd(44)} ${String(Math.round(RESOLVES / elapsed)).padStart(6)} /s   p50 ${percentile(latencies, 50).toFixed(2)} ms   p99 ${percentile(latencies, 99).toFixed(2)} ms`,
  );
}

const nats = await startNatsServer({ jetstream: false });
const db = databaseEnv('sqlite');
const publicUrl = 'http://127.0.0.1:8080';
const provider = await startOAuthProvider({
  clients: [{ clientId: 'bench', clientSecret: 'bench-client-secret', redirectUris: [`${publicUrl}/oauth/callback`] }],
  scopes: ['files:read'],
});
const service = await startInProcessService({
  service: 'vault',
  natsUrl: nats.url,
  env: { ...db.env, VMCP_MASTER_KEY: randomBytes(32).toString('base64'), VMCP_PUBLIC_URL: publicUrl },
  module: (core) => VaultModule.forRoot(core),
});
const grants = await createGrantSigner();
// Policy's part: the keys grants are signed with.
const asPolicy = await Bus.connect({ url: nats.url, name: 'bench-policy', timeoutMs: 5000 });
asPolicy.connection.subscribe(policy.tokenKeys.subject, { callback: (_e, msg) => msg.respond(JSON.stringify(grants.keys)) });
const bus = await Bus.connect({ url: nats.url, name: 'bench-executor', timeoutMs: 5000 });

try {
  const tenant = newId('ten');
  const staticAccount = newId('ca');
  await bus.request(vault.storeCredential, { tenant_id: tenant, account_id: staticAccount, auth_type: 'bearer_token', secret: { token: 'bench-token-0123456789' } });
  // Grants are signed by policy, outside this measurement: one per call, as in production.
  const staticGrant = await grants.sign(tenant, staticAccount);
  await measure('resolve bearer_token (grant check + decrypt)', () =>
    bus.request(vault.resolveCredential, { tenant_id: tenant, account_id: staticAccount, grant: staticGrant }),
  );

  const connection = newId('conn');
  await bus.request(vault.storeOAuthClient, {
    tenant_id: tenant,
    connection_id: connection,
    client_secret: 'bench-client-secret',
    client: { client_id: 'bench', scopes: ['files:read', 'offline_access'], authorize_url: provider.authorizeUrl, token_url: provider.tokenUrl, token_endpoint_auth_method: 'client_secret_basic' },
  });
  const oauthAccount = newId('ca');
  const { link } = await bus.request(vault.createAuthorizationLink, { tenant_id: tenant, connection_id: connection, account_id: oauthAccount });
  const { authorize_url } = await bus.request(vault.openAuthorizationLink, { state: link.split('/oauth/authorize/')[1] });
  const back = new URL((await provider.authorize(authorize_url, { accountId: 'bench-user' })).location);
  await bus.request(vault.completeAuthorization, Object.fromEntries(back.searchParams));
  const oauthGrant = await grants.sign(tenant, oauthAccount);
  const resolveOAuth = (rejected) =>
    bus.request(vault.resolveCredential, { tenant_id: tenant, account_id: oauthAccount, grant: oauthGrant, ...(rejected ? { rejected_token: rejected } : {}) });
  await measure('resolve oauth2 access token (no refresh)', () => resolveOAuth());

  for (let round = 1; round <= 3; round++) {
    const stale = (await resolveOAuth()).secret.token;
    const before = provider.counts().refreshToken;
    const t0 = performance.now();
    const replies = await Promise.all(Array.from({ length: CONCURRENT_REFRESHES }, () => resolveOAuth(stale)));
    const ms = performance.now() - t0;
    const distinct = new Set(replies.map((r) => r.secret.token)).size;
    console.log(
      `refresh single-flight, ${CONCURRENT_REFRESHES} concurrent (round ${round})   ${provider.counts().refreshToken - before} refresh at the provider, ${distinct} new token, all answered in ${ms.toFixed(1)} ms`,
    );
  }
} finally {
  await bus.close();
  await asPolicy.close();
  await service.close();
  await provider.close();
  await nats.stop();
  await db.drop();
}
