import { startFakeProvider, type FakeProvider, type FakeRequest, type FakeResponse, type RecordedRequest } from './fake-provider.js';

/**
 * A local stand-in for one Salesforce org's REST API
 * (developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest), reproducing the
 * documented requests and answers of the resources the salesforce connector uses: bearer
 * authentication with `INVALID_SESSION_ID` on 401, SOQL queries (a small subset: SELECT
 * fields and parent fields, WHERE … AND …, ORDER BY, LIMIT) answered in batches with
 * `nextRecordsUrl` and the `Sforce-Query-Options: batchSize` header, sObject get / create /
 * update (204), and the `[{message, errorCode, fields}]` error body. Any API version works
 * (`/services/data/vXX.X/…`), as on a real org.
 */
export interface FakeSalesforce extends FakeProvider {
  /** Bearer tokens (session ids / OAuth access tokens) accepted; change it to expire one. */
  readonly tokens: Set<string>;
  /** Records by id, as stored (`reset` restores the seed data). */
  readonly records: Map<string, SfRecord>;
  /** Records per query batch when the request sets no Sforce-Query-Options (Salesforce's default 2000); tests lower it. */
  batchSize: number;
  /** The tokens seen on requests, in order. */
  tokensSeen(): string[];
}

export interface FakeSalesforceOptions {
  /** Accepted tokens (default: one, `00Dfixture!session_token_0001`). */
  readonly tokens?: readonly string[];
  readonly batchSize?: number;
}

export type SfValue = string | number | boolean | null;
export interface SfRecord {
  readonly type: string;
  readonly fields: Record<string, SfValue>;
}

/** The fields of each object, canonical names; lookups name their parent object. */
const OBJECTS: Record<string, { prefix: string; fields: string[]; required: string[]; lookups: Record<string, { field: string; object: string }> }> = {
  Account: { prefix: '001', fields: ['Id', 'Name', 'Industry', 'Phone', 'BillingCity', 'AnnualRevenue', 'NumberOfEmployees', 'OwnerId', 'CreatedDate', 'LastModifiedDate'], required: ['Name'], lookups: {} },
  Contact: { prefix: '003', fields: ['Id', 'FirstName', 'LastName', 'Email', 'Title', 'AccountId', 'OwnerId', 'CreatedDate', 'LastModifiedDate'], required: ['LastName'], lookups: { Account: { field: 'AccountId', object: 'Account' } } },
};
const SYSTEM_FIELDS = new Set(['Id', 'OwnerId', 'CreatedDate', 'LastModifiedDate']);
const OWNER = '005D0000001AbcdIAC';

function seed(): Map<string, SfRecord> {
  const stamp = '2024-01-15T10:22:31.000+0000';
  const account = (Id: string, Name: string, Industry: string | null, BillingCity: string | null, AnnualRevenue: number | null): SfRecord => ({
    type: 'Account',
    fields: { Id, Name, Industry, Phone: null, BillingCity, AnnualRevenue, NumberOfEmployees: null, OwnerId: OWNER, CreatedDate: stamp, LastModifiedDate: stamp },
  });
  const contact = (Id: string, FirstName: string, LastName: string, Email: string, AccountId: string): SfRecord => ({
    type: 'Contact',
    fields: { Id, FirstName, LastName, Email, Title: null, AccountId, OwnerId: OWNER, CreatedDate: stamp, LastModifiedDate: stamp },
  });
  const all = [
    account('001D000000IqhSLIAZ', 'Express Logistics and Transport', 'Transportation', 'Portland', 950000000),
    account('001D000000IRFmaIAH', 'Edge Communications', 'Electronics', 'Austin', 139000000),
    account('001D000000INjVeIAL', 'GenePoint', 'Biotechnology', 'Mountain View', 30000000),
    account('001D000000IomazIAB', 'United Oil & Gas Corp.', 'Energy', 'New York', 5600000000),
    contact('003D000000QV9n2IAD', 'Rose', 'Gonzalez', 'rose@edge.com', '001D000000IRFmaIAH'),
    contact('003D000000QV9n3IAD', 'Sean', 'Forbes', 'sean@edge.com', '001D000000IRFmaIAH'),
  ];
  return new Map(all.map((r) => [r.fields.Id as string, r]));
}

const sfError = (status: number, errorCode: string, message: string, fields?: string[]): FakeResponse => ({ status, body: [{ message, errorCode, ...(fields ? { fields } : {}) }] });
const NOT_FOUND = () => sfError(404, 'NOT_FOUND', 'The requested resource does not exist');
const noSuchColumn = (field: string, type: string) => sfError(400, 'INVALID_FIELD', `No such column '${field}' on sobject of type ${type}`);

export async function startFakeSalesforce(options: FakeSalesforceOptions = {}): Promise<FakeSalesforce> {
  const tokens = new Set(options.tokens ?? ['00Dfixture!session_token_0001']);
  const records = seed();
  const cursors = new Map<string, { rows: Record<string, unknown>[]; batch: number }>();
  let nextLocator = 1;
  let nextId = 1;

  const canonical = (type: string, field: string) => OBJECTS[type]?.fields.find((f) => f.toLowerCase() === field.toLowerCase());
  const objectName = (name: string | undefined) => Object.keys(OBJECTS).find((o) => o.toLowerCase() === name?.toLowerCase());
  const attributes = (version: string, type: string, id: unknown) => ({ type, url: `/services/data/${version}/sobjects/${type}/${String(id)}` });

  /** Selected fields of a record, as a query row; `Account.Name` becomes a nested Account record. */
  const row = (version: string, r: SfRecord, fields: string[]) => {
    const out: Record<string, unknown> = { attributes: attributes(version, r.type, r.fields.Id) };
    for (const f of fields) {
      const [rel, sub] = f.split('.') as [string, string | undefined];
      if (!sub) {
        out[canonical(r.type, f)!] = r.fields[canonical(r.type, f)!] ?? null;
        continue;
      }
      const lookup = Object.entries(OBJECTS[r.type]!.lookups).find(([name]) => name.toLowerCase() === rel.toLowerCase())!;
      const parent = records.get(String(r.fields[lookup[1].field]));
      if (!parent) {
        out[lookup[0]] = null;
        continue;
      }
      const nested = (out[lookup[0]] ??= { attributes: attributes(version, parent.type, parent.fields.Id) }) as Record<string, unknown>;
      nested[canonical(parent.type, sub)!] = parent.fields[canonical(parent.type, sub)!] ?? null;
    }
    return out;
  };

  const batchOf = (r: RecordedRequest, fallback: number) => {
    const header = /batchSize=(\d+)/i.exec(String(r.headers['sforce-query-options'] ?? ''))?.[1];
    // Documented bounds: at least 200, at most 2000.
    return header ? Math.min(2000, Math.max(200, Number(header))) : fallback;
  };

  const answerBatch = (version: string, locator: string, offset: number): FakeResponse => {
    const cursor = cursors.get(locator)!;
    const rows = cursor.rows.slice(offset, offset + cursor.batch);
    const done = offset + cursor.batch >= cursor.rows.length;
    return {
      status: 200,
      body: { totalSize: cursor.rows.length, done, ...(done ? {} : { nextRecordsUrl: `/services/data/${version}/query/${locator}-${offset + cursor.batch}` }), records: rows },
    };
  };

  const query = (r: FakeRequest, batchSize: number): FakeResponse => {
    const version = r.params.version!;
    const soql = typeof r.query.q === 'string' ? r.query.q : '';
    const m = /^\s*SELECT\s+(.+?)\s+FROM\s+(\w+)(?:\s+WHERE\s+(.+?))?(?:\s+ORDER\s+BY\s+(\w+)(?:\s+(ASC|DESC))?)?(?:\s+LIMIT\s+(\d+))?\s*$/i.exec(soql);
    if (!m) return sfError(400, 'MALFORMED_QUERY', `unexpected token: '${soql.trim().split(/\s+/).slice(-1)[0] ?? ''}'`);
    const [, list, from, where, orderBy, dir, limit] = m as unknown as [string, string, string, string | undefined, string | undefined, string | undefined, string | undefined];
    const type = objectName(from);
    if (!type) {
      return sfError(400, 'INVALID_TYPE', `sObject type '${from}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.`);
    }
    const fields = list.split(',').map((f) => f.trim());
    for (const f of fields) {
      const [rel, sub] = f.split('.') as [string, string | undefined];
      const lookup = sub ? Object.entries(OBJECTS[type]!.lookups).find(([name]) => name.toLowerCase() === rel.toLowerCase()) : undefined;
      const ok = sub ? lookup !== undefined && canonical(lookup[1].object, sub) !== undefined : canonical(type, f) !== undefined;
      if (!ok) {
        return sfError(400, 'INVALID_FIELD', `\n${soql}\n^\nERROR at Row:1:Column:8\nNo such column '${f}' on entity '${type}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.`);
      }
    }
    let matches = [...records.values()].filter((x) => x.type === type);
    for (const clause of where ? where.split(/\s+AND\s+/i) : []) {
      const c = /^\s*(\w+)\s*(!=|=)\s*('(?:[^'\\]|\\.)*'|[\w.-]+)\s*$/.exec(clause);
      if (!c) return sfError(400, 'MALFORMED_QUERY', `unexpected token: '${clause.trim()}'`);
      const [, name, op, raw] = c as unknown as [string, string, string, string];
      const field = canonical(type, name);
      if (!field) return sfError(400, 'INVALID_FIELD', `No such column '${name}' on entity '${type}'.`);
      const value: SfValue = raw.startsWith("'") ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw.toLowerCase() === 'null' ? null : raw.toLowerCase() === 'true' ? true : raw.toLowerCase() === 'false' ? false : Number(raw);
      matches = matches.filter((x) => (x.fields[field] === value) === (op === '='));
    }
    if (orderBy) {
      const field = canonical(type, orderBy);
      if (!field) return sfError(400, 'INVALID_FIELD', `No such column '${orderBy}' on entity '${type}'.`);
      const sign = dir?.toUpperCase() === 'DESC' ? -1 : 1;
      matches.sort((a, b) => sign * String(a.fields[field] ?? '').localeCompare(String(b.fields[field] ?? '')));
    }
    if (limit) matches = matches.slice(0, Number(limit));
    // A query locator: 01g + 15 characters.
    const locator = `01gD0000002HU${String(nextLocator++).padStart(5, '0')}`;
    cursors.set(locator, { rows: matches.map((x) => row(version, x, fields)), batch: batchOf(r, batchSize) });
    return answerBatch(version, locator, 0);
  };

  /** Field values to write, checked as Salesforce does: known, writable, required ones present on create. */
  const checkWrite = (type: string, body: unknown, creating: boolean): { error: FakeResponse } | { fields: Record<string, SfValue> } => {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return { error: sfError(400, 'JSON_PARSER_ERROR', 'Unexpected parameter encountered during deserialization') };
    const out: Record<string, SfValue> = {};
    for (const [k, v] of Object.entries(body as Record<string, SfValue>)) {
      const field = canonical(type, k);
      if (!field) return { error: noSuchColumn(k, type) };
      if (SYSTEM_FIELDS.has(field)) {
        return { error: sfError(400, 'INVALID_FIELD_FOR_INSERT_UPDATE', `Unable to create/update fields: ${field}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.`, [field]) };
      }
      out[field] = v;
    }
    const missing = OBJECTS[type]!.required.filter((f) => (creating ? out[f] === undefined || out[f] === null || out[f] === '' : f in out && (out[f] === null || out[f] === '')));
    if (missing.length > 0) return { error: sfError(400, 'REQUIRED_FIELD_MISSING', `Required fields are missing: [${missing.join(', ')}]`, missing) };
    return { fields: out };
  };

  const settings = { batchSize: options.batchSize ?? 2000 };
  const create = (r: FakeRequest): FakeResponse => {
    const type = objectName(r.params.type);
    if (!type) return NOT_FOUND();
    const checked = checkWrite(type, r.body, true);
    if ('error' in checked) return checked.error;
    const id = `${OBJECTS[type]!.prefix}D${String(nextId++).padStart(11, '0')}AAA`;
    const now = new Date().toISOString().replace('Z', '+0000');
    const fields = Object.fromEntries(OBJECTS[type]!.fields.map((f) => [f, null])) as Record<string, SfValue>;
    records.set(id, { type, fields: { ...fields, ...checked.fields, Id: id, OwnerId: OWNER, CreatedDate: now, LastModifiedDate: now } });
    return { status: 201, headers: { location: `/services/data/${r.params.version}/sobjects/${type}/${id}` }, body: { id, success: true, errors: [] } };
  };

  const provider = await startFakeProvider({
    headers: { 'sforce-limit-info': 'api-usage=18/15000' },
    gate(r) {
      const token = /^Bearer\s+(.+)$/i.exec(r.headers.authorization ?? '')?.[1];
      if (!token || !tokens.has(token)) return { status: 401, headers: { 'www-authenticate': 'Token' }, body: [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }] };
      return undefined;
    },
    routes: [
      { method: 'GET', path: '/services/data/:version/query', handle: (r) => query(r, settings.batchSize) },
      {
        method: 'GET',
        path: '/services/data/:version/query/:next',
        handle: (r) => {
          const m = /^([A-Za-z0-9]{15,18})-(\d+)$/.exec(r.params.next ?? '');
          if (!m || !cursors.has(m[1]!)) return sfError(400, 'INVALID_QUERY_LOCATOR', 'invalid query locator');
          return answerBatch(r.params.version!, m[1]!, Number(m[2]));
        },
      },
      {
        method: 'GET',
        path: '/services/data/:version/sobjects/:type/:id',
        handle: (r) => {
          const type = objectName(r.params.type);
          const rec = records.get(r.params.id ?? '');
          if (!type || !rec || rec.type !== type) return NOT_FOUND();
          const wanted = typeof r.query.fields === 'string' ? r.query.fields.split(',').map((f) => f.trim()) : OBJECTS[type]!.fields;
          for (const f of wanted) if (!canonical(type, f)) return noSuchColumn(f, type);
          return { status: 200, body: row(r.params.version!, rec, wanted) };
        },
      },
      { method: 'POST', path: '/services/data/:version/sobjects/:type/', handle: create },
      { method: 'POST', path: '/services/data/:version/sobjects/:type', handle: create },
      {
        method: 'PATCH',
        path: '/services/data/:version/sobjects/:type/:id',
        handle: (r) => {
          const type = objectName(r.params.type);
          const rec = records.get(r.params.id ?? '');
          if (!type || !rec || rec.type !== type) return NOT_FOUND();
          const checked = checkWrite(type, r.body, false);
          if ('error' in checked) return checked.error;
          Object.assign(rec.fields, checked.fields, { LastModifiedDate: new Date().toISOString().replace('Z', '+0000') });
          return { status: 204 };
        },
      },
    ],
    notFound: () => NOT_FOUND(),
  });

  return {
    ...provider,
    get batchSize() {
      return settings.batchSize;
    },
    set batchSize(n: number) {
      settings.batchSize = n;
    },
    reset() {
      provider.reset();
      records.clear();
      for (const [id, r] of seed()) records.set(id, r);
      cursors.clear();
      settings.batchSize = options.batchSize ?? 2000;
    },
    tokens,
    records,
    tokensSeen: () => provider.requests.map((r) => /^Bearer\s+(.+)$/i.exec(r.headers.authorization ?? '')?.[1] ?? ''),
  };
}
