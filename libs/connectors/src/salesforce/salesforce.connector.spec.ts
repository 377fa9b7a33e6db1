import type { AuthType, CallToolResult, ConnectionTarget } from '@vmcp/contracts';
import { startFakeSalesforce, type FakeSalesforce } from '@vmcp/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CredentialRequest, ResolvedCredential } from '../connector.js';
import { NativeConnector } from '../native/native.connector.js';
import { ajv, errorText, structuredResult, vmcpError } from '../native/native-spec.fixture.js';
import { salesforce } from './salesforce.connector.js';

const TOKEN = '00Dfixture!session_token_0001';
const REFRESHED = '00Dfixture!session_token_0002';
const EDGE = '001D000000IRFmaIAH';

let sf: FakeSalesforce;

function setup(options: { authType?: AuthType; tokens?: string[]; instanceFromToken?: boolean } = {}) {
  const authType = options.authType ?? 'bearer_token';
  const tokens = [...(options.tokens ?? [TOKEN])];
  const resolveCredential = vi.fn(async (r: CredentialRequest): Promise<ResolvedCredential> => {
    if (r.rejectedToken && tokens.length > 1 && tokens[0] === r.rejectedToken) tokens.shift();
    return { auth_type: authType, secret: { token: tokens[0]! }, ...(options.instanceFromToken ? { base_url: sf.url } : {}) };
  });
  const connector = new NativeConnector(salesforce, { resolveCredential }, { retry: { baseDelayMs: 10, maxDelayMs: 20 } });
  const connection: ConnectionTarget = { id: 'conn_sf', name: 'crm', connector: 'salesforce', auth_type: authType, settings: options.instanceFromToken ? {} : { base_url: sf.url } };
  const ctx = { tenantId: 'ten_1', connection, accountId: 'ca_ana', grant: 'grant.jwt' };
  const call = (name: string, args: Record<string, unknown>) => connector.callTool(ctx, name, args, { timeoutMs: 5000 });
  return { resolveCredential, call, connector };
}

const structured = (name: string, result: CallToolResult) => structuredResult(salesforce, name, result);

beforeAll(async () => {
  sf = await startFakeSalesforce();
});
afterAll(async () => {
  await sf.close();
});
beforeEach(() => {
  sf.reset();
});

describe('salesforce connector: catalog', () => {
  it('lists its four tools with true annotations and Salesforce\'s OAuth endpoints', async () => {
    const { connector } = setup();
    const tools = await connector.listTools();
    expect(tools.map((t) => t.name)).toEqual(['salesforce_query', 'salesforce_get_record', 'salesforce_create_record', 'salesforce_update_record']);
    for (const t of tools) {
      expect(() => ajv.compile(t.inputSchema)).not.toThrow();
      expect(() => ajv.compile(t.outputSchema!)).not.toThrow();
    }
    const byName = Object.fromEntries(tools.map((t) => [t.name, t.annotations]));
    expect(byName.salesforce_query).toEqual({ readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true });
    expect(byName.salesforce_create_record).toEqual({ readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true });
    expect(byName.salesforce_update_record).toEqual({ readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true });
    expect(salesforce.info).toMatchObject({
      id: 'salesforce',
      auth_types: ['oauth2', 'bearer_token'],
      oauth: {
        authorize_url: 'https://login.salesforce.com/services/oauth2/authorize',
        token_url: 'https://login.salesforce.com/services/oauth2/token',
        revocation_url: 'https://login.salesforce.com/services/oauth2/revoke',
        scopes: ['api', 'refresh_token'],
      },
    });
  });

  it('requires the instance URL in settings.base_url, without a path', () => {
    // OAuth accounts take the instance from the token answer (instance_url, via the vault).
    expect(salesforce.info.validateSettings({}, 'oauth2')).toBeUndefined();
    expect(salesforce.info.validateSettings({}, 'bearer_token')).toMatch(/settings.base_url is required/);
    expect(salesforce.info.validateSettings({ base_url: 'https://acme.my.salesforce.com' }, 'bearer_token')).toBeUndefined();
    expect(salesforce.info.validateSettings({ base_url: 'https://acme.my.salesforce.com/services/data' }, 'bearer_token')).toMatch(/has no path/);
  });

  it('input schemas refuse what Salesforce would not take', () => {
    const get = ajv.compile(salesforce.tool('salesforce_get_record')!.inputSchema);
    expect(get({ sobject: 'Invoice__c', id: 'a01D000000IRFma', fields: ['Name'] })).toBe(true);
    expect(get({ sobject: '../Account', id: EDGE })).toBe(false);
    expect(get({ sobject: 'Account', id: '001/../x' })).toBe(false);
    const query = ajv.compile(salesforce.tool('salesforce_query')!.inputSchema);
    expect(query({ next_records_url: 'https://evil.example/services/data/v61.0/query/01gD0000002HU6KIAW-2000' })).toBe(false);
    expect(query({ q: 'SELECT Id FROM Account', batch_size: 100 })).toBe(false);
    const update = ajv.compile(salesforce.tool('salesforce_update_record')!.inputSchema);
    expect(update({ sobject: 'Account', id: EDGE, fields: {} })).toBe(false);
    expect(update({ sobject: 'Account', id: EDGE, fields: { Name: { nested: true } } })).toBe(false);
  });
});

describe('salesforce connector: requests and results', () => {
  it('salesforce_query sends the SOQL as q and returns the records without their attributes', async () => {
    const { call } = setup();
    const soql = "SELECT Id, Name, Industry FROM Account WHERE Industry = 'Electronics'";
    const result = structured('salesforce_query', await call('salesforce_query', { q: soql }));
    expect(sf.requests).toHaveLength(1);
    const [req] = sf.requests;
    expect(req).toMatchObject({ method: 'GET', path: '/services/data/v61.0/query', query: { q: soql }, body: undefined });
    expect(req!.headers).toMatchObject({ accept: 'application/json', authorization: `Bearer ${TOKEN}` });
    expect(req!.headers['sforce-query-options']).toBeUndefined();
    expect(result).toEqual({ total_size: 1, done: true, records: [{ Id: EDGE, Name: 'Edge Communications', Industry: 'Electronics' }], next_records_url: null });

    const contacts = structured('salesforce_query', await call('salesforce_query', { q: 'SELECT Id, LastName, Account.Name FROM Contact ORDER BY LastName', batch_size: 200 }));
    expect(sf.requests[1]!.headers['sforce-query-options']).toBe('batchSize=200');
    expect(contacts.records).toEqual([
      { Id: '003D000000QV9n3IAD', LastName: 'Forbes', Account: { Name: 'Edge Communications' } },
      { Id: '003D000000QV9n2IAD', LastName: 'Gonzalez', Account: { Name: 'Edge Communications' } },
    ]);
  });

  it('pages with nextRecordsUrl until done', async () => {
    const { call } = setup();
    sf.batchSize = 2;
    const soql = 'SELECT Id, Name FROM Account ORDER BY Name';
    const first = structured('salesforce_query', await call('salesforce_query', { q: soql }));
    expect(first).toEqual({
      total_size: 4,
      done: false,
      records: [
        { Id: EDGE, Name: 'Edge Communications' },
        { Id: '001D000000IqhSLIAZ', Name: 'Express Logistics and Transport' },
      ],
      next_records_url: expect.stringMatching(/^\/services\/data\/v61\.0\/query\/01g[A-Za-z0-9]{15}-2$/),
    });
    const next = first.next_records_url as string;
    const second = structured('salesforce_query', await call('salesforce_query', { next_records_url: next }));
    expect(sf.requests[1]).toMatchObject({ method: 'GET', path: next, query: {} });
    expect(second).toEqual({
      total_size: 4,
      done: true,
      records: [
        { Id: '001D000000INjVeIAL', Name: 'GenePoint' },
        { Id: '001D000000IomazIAB', Name: 'United Oil & Gas Corp.' },
      ],
      next_records_url: null,
    });
  });

  it('salesforce_query takes q or next_records_url, not both', async () => {
    const { call } = setup();
    expect(errorText(await call('salesforce_query', {}))).toBe('Give either q (a SOQL query) or next_records_url (to continue one), not both and not neither');
    expect(errorText(await call('salesforce_query', { q: 'SELECT Id FROM Account', next_records_url: '/services/data/v61.0/query/01gD0000002HU6KIAW-2000' }))).toMatch(/not both/);
    expect(sf.requests).toHaveLength(0);
  });

  it('salesforce_get_record asks for the named fields', async () => {
    const { call } = setup();
    const got = structured('salesforce_get_record', await call('salesforce_get_record', { sobject: 'Account', id: EDGE, fields: ['Name', 'Industry', 'AnnualRevenue'] }));
    expect(sf.requests[0]).toMatchObject({ method: 'GET', path: `/services/data/v61.0/sobjects/Account/${EDGE}`, query: { fields: 'Name,Industry,AnnualRevenue' } });
    expect(got).toEqual({ sobject: 'Account', id: EDGE, record: { Name: 'Edge Communications', Industry: 'Electronics', AnnualRevenue: 139000000 } });
  });

  it('salesforce_create_record posts the field values and returns the new id', async () => {
    const { call } = setup();
    const created = structured('salesforce_create_record', await call('salesforce_create_record', { sobject: 'Account', fields: { Name: 'Burlington Textiles Corp of America', Industry: 'Apparel', NumberOfEmployees: 9000 } }));
    const [req] = sf.requests;
    expect(req).toMatchObject({ method: 'POST', path: '/services/data/v61.0/sobjects/Account/', query: {} });
    expect(req!.headers).toMatchObject({ 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` });
    expect(JSON.parse(req!.rawBody)).toEqual({ Name: 'Burlington Textiles Corp of America', Industry: 'Apparel', NumberOfEmployees: 9000 });
    expect(created).toEqual({ sobject: 'Account', id: expect.stringMatching(/^001[A-Za-z0-9]{15}$/), success: true });
    expect(sf.records.get(created.id as string)?.fields).toMatchObject({ Name: 'Burlington Textiles Corp of America', NumberOfEmployees: 9000 });
  });

  it('salesforce_update_record patches the fields (Salesforce answers 204)', async () => {
    const { call } = setup();
    const updated = structured('salesforce_update_record', await call('salesforce_update_record', { sobject: 'Account', id: EDGE, fields: { BillingCity: 'San Francisco', Phone: null } }));
    expect(sf.requests[0]).toMatchObject({ method: 'PATCH', path: `/services/data/v61.0/sobjects/Account/${EDGE}`, body: { BillingCity: 'San Francisco', Phone: null } });
    expect(updated).toEqual({ sobject: 'Account', id: EDGE, updated: true });
    expect(sf.records.get(EDGE)?.fields).toMatchObject({ BillingCity: 'San Francisco', Phone: null });
  });
});

describe('salesforce connector: failures', () => {
  it('Salesforce\'s [{errorCode, message, fields}] becomes a tool error', async () => {
    const { call } = setup();
    expect(errorText(await call('salesforce_get_record', { sobject: 'Account', id: '001D000000XXXXXIAA' }))).toBe('Salesforce answered HTTP 404: NOT_FOUND: The requested resource does not exist');
    expect(errorText(await call('salesforce_create_record', { sobject: 'Account', fields: { Industry: 'Energy' } }))).toBe(
      'Salesforce answered HTTP 400: REQUIRED_FIELD_MISSING: Required fields are missing: [Name]',
    );
    expect(errorText(await call('salesforce_query', { q: 'SELECT Id, Nme FROM Account' }))).toMatch(
      /^Salesforce answered HTTP 400: INVALID_FIELD: SELECT Id, Nme FROM Account \^ ERROR at Row:1:Column:8 No such column 'Nme' on entity 'Account'\./,
    );
  });

  it('a 401 INVALID_SESSION_ID is refreshed once through the vault, and the call goes through', async () => {
    sf.tokens.add(REFRESHED);
    sf.tokens.delete(TOKEN);
    try {
      const { call, resolveCredential } = setup({ authType: 'oauth2', tokens: [TOKEN, REFRESHED] });
      const updated = structured('salesforce_update_record', await call('salesforce_update_record', { sobject: 'Account', id: EDGE, fields: { Industry: 'Telecommunications' } }));
      expect(updated.updated).toBe(true);
      expect(resolveCredential.mock.calls.map(([r]) => r)).toEqual([
        { tenantId: 'ten_1', accountId: 'ca_ana', grant: 'grant.jwt' },
        { tenantId: 'ten_1', accountId: 'ca_ana', grant: 'grant.jwt', rejectedToken: TOKEN },
      ]);
      expect(sf.tokensSeen()).toEqual([TOKEN, REFRESHED]);
      expect(sf.records.get(EDGE)?.fields.Industry).toBe('Telecommunications');
    } finally {
      sf.tokens.add(TOKEN);
      sf.tokens.delete(REFRESHED);
    }
  });

  it('a session refused again after the refresh asks the user to authorize again', async () => {
    const { call, resolveCredential } = setup({ authType: 'oauth2', tokens: ['00Dexpired!aaaa1111', '00Dexpired!bbbb2222'] });
    const err = await vmcpError(call('salesforce_query', { q: 'SELECT Id FROM Account' }));
    expect(err).toMatchObject({ code: 'ACCOUNT_NOT_ACTIVE', message: expect.stringMatching(/even after a refresh/) });
    expect(err.message).not.toContain('00Dexpired');
    expect(resolveCredential).toHaveBeenCalledTimes(2);
  });

  it('a 429 with Retry-After is waited out for a query, never retried for a create', async () => {
    const { call } = setup();
    sf.override({ path: '/services/data/v61.0/query' }, { status: 429, headers: { 'retry-after': '1' }, body: [{ message: 'Too many requests', errorCode: 'REQUEST_LIMIT_EXCEEDED' }] });
    const started = Date.now();
    expect(structured('salesforce_query', await call('salesforce_query', { q: 'SELECT Id FROM Contact' })).total_size).toBe(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(sf.requests).toHaveLength(2);

    sf.reset();
    sf.override({ method: 'POST' }, { status: 429, headers: { 'retry-after': '1' }, body: [{ message: 'Too many requests', errorCode: 'REQUEST_LIMIT_EXCEEDED' }] });
    expect(errorText(await call('salesforce_create_record', { sobject: 'Contact', fields: { LastName: 'Young' } }))).toBe(
      'Salesforce answered HTTP 429: REQUEST_LIMIT_EXCEEDED: Too many requests (retry after 1 s)',
    );
    expect(sf.requests).toHaveLength(1);
    expect([...sf.records.values()].filter((r) => r.type === 'Contact')).toHaveLength(2);
  });

  it('an update, being idempotent, is repeated after a 503 with Retry-After', async () => {
    const { call } = setup();
    sf.override({ method: 'PATCH' }, { status: 503, headers: { 'retry-after': '1' }, body: [{ message: 'Server temporarily unavailable', errorCode: 'SERVER_UNAVAILABLE' }] });
    expect(structured('salesforce_update_record', await call('salesforce_update_record', { sobject: 'Account', id: EDGE, fields: { Phone: '(512) 757-6000' } })).updated).toBe(true);
    expect(sf.requests.map((r) => r.method)).toEqual(['PATCH', 'PATCH']);
  });

it("an OAuth account without settings.base_url reaches the instance Salesforce named in its token answer", async () => {
  const { call } = setup({ authType: 'oauth2', instanceFromToken: true });
  const result = await call('salesforce_query', { q: 'SELECT Id, Name FROM Account LIMIT 1' });
  expect(result.isError).toBeUndefined();
  expect(sf.requests.at(-1)).toMatchObject({ method: 'GET', path: expect.stringMatching(/^\/services\/data\/v\d+\.\d\/query$/) });
});
});
