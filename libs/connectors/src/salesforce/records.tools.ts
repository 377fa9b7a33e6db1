import { ToolError } from '../http/provider-errors.js';
import { ANNOTATIONS, defineTool } from '../native/native-connector.definition.js';
import {
  API,
  FIELD_NAME,
  FIELD_VALUES,
  input,
  output,
  plainRecord,
  RECORD,
  RECORD_ID,
  SOBJECT,
  type QueryResult,
  type SaveResult,
} from './salesforce.schemas.js';

export interface QueryArgs {
  readonly q?: string;
  readonly next_records_url?: string;
  readonly batch_size?: number;
}

/**
 * GET /services/data/vXX.X/query?q=… and, for the next batch, GET {nextRecordsUrl}
 * (/services/data/vXX.X/query/{queryLocator}) — developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_query.htm
 * and dome_query.htm#retrieving-the-remaining-soql-query-results; the batch size through the
 * Sforce-Query-Options header (headers.htm#queryoptions-header).
 */
export const query = defineTool<QueryArgs>({
  name: 'salesforce_query',
  title: 'Run a SOQL query in Salesforce',
  description:
    'Runs a SOQL query and returns the matching records, e.g. `SELECT Id, Name, Industry FROM Account WHERE Industry = \'Energy\' ORDER BY Name LIMIT 50`. ' +
    'Name the fields you need in SELECT (there is no SELECT *); related fields use relationship names (`Account.Name` from a Contact), and a LIMIT keeps answers small. ' +
    'total_size counts all matches. When next_records_url is not null, more records remain: call again with next_records_url set to it (and no q) for the next batch.',
  inputSchema: input(
    {
      q: { type: 'string', minLength: 1, maxLength: 20000, description: 'The SOQL query. Give q or next_records_url, not both.' },
      next_records_url: {
        type: 'string',
        pattern: '^/services/data/v[0-9]{2,3}\\.0/query(?:All)?/[A-Za-z0-9]{15,18}-[0-9]{1,9}$',
        description: 'The next_records_url of the previous result, to read the next batch of the same query.',
      },
      batch_size: { type: 'integer', minimum: 200, maximum: 2000, description: 'Records per batch, 200 to 2000 (Salesforce\'s default 2000; a hint it may not follow exactly).' },
    },
    [],
  ),
  outputSchema: output({
    total_size: { type: 'integer', description: 'How many records match the query in all.' },
    done: { type: 'boolean', description: 'true when this batch is the last.' },
    records: { type: 'array', items: RECORD },
    next_records_url: { type: ['string', 'null'], description: 'Pass it back to read the next batch; null when done.' },
  }),
  annotations: ANNOTATIONS.read,
  async run(args, http) {
    if ((args.q === undefined) === (args.next_records_url === undefined)) throw new ToolError('Give either q (a SOQL query) or next_records_url (to continue one), not both and not neither');
    const headers = args.batch_size ? { 'Sforce-Query-Options': `batchSize=${args.batch_size}` } : undefined;
    const options = headers ? { headers } : {};
    const response = args.next_records_url
      ? // Salesforce's link is a path from the instance's root.
        await http.get<QueryResult>(new URL(args.next_records_url, http.baseUrl.origin).toString(), options)
      : await http.get<QueryResult>(`${API}/query`, { ...options, query: { q: args.q } });
    const { totalSize, done, nextRecordsUrl, records } = response.body;
    return { total_size: totalSize, done, records: records.map(plainRecord), next_records_url: !done && nextRecordsUrl ? nextRecordsUrl : null };
  },
});

export interface GetRecordArgs {
  readonly sobject: string;
  readonly id: string;
  readonly fields?: readonly string[];
}

/** GET /services/data/vXX.X/sobjects/{sObject}/{id}?fields=… — developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_sobject_retrieve_get.htm */
export const getRecord = defineTool<GetRecordArgs>({
  name: 'salesforce_get_record',
  title: 'Get a Salesforce record',
  description:
    'Gets one Salesforce record by object type and id. Name the fields you need: without fields, Salesforce returns every field of the object, which can be hundreds. ' +
    'To find records by their values rather than their id, use salesforce_query.',
  inputSchema: input(
    {
      sobject: SOBJECT,
      id: RECORD_ID,
      fields: { type: 'array', items: FIELD_NAME, minItems: 1, maxItems: 200, uniqueItems: true, description: 'API names of the fields to return, e.g. ["Name", "Industry", "OwnerId"].' },
    },
    ['sobject', 'id'],
  ),
  outputSchema: output({ sobject: { type: 'string' }, id: { type: 'string' }, record: RECORD }),
  annotations: ANNOTATIONS.read,
  async run(args, http) {
    const response = await http.get<Record<string, unknown>>(`${API}/sobjects/{sobject}/{id}`, {
      params: { sobject: args.sobject, id: args.id },
      query: { fields: args.fields?.join(',') },
    });
    return { sobject: args.sobject, id: args.id, record: plainRecord(response.body) };
  },
});

export interface CreateRecordArgs {
  readonly sobject: string;
  readonly fields: Readonly<Record<string, string | number | boolean | null>>;
}

/** POST /services/data/vXX.X/sobjects/{sObject}/ — developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/dome_sobject_create.htm */
export const createRecord = defineTool<CreateRecordArgs>({
  name: 'salesforce_create_record',
  title: 'Create a Salesforce record',
  description:
    'Creates a Salesforce record of the given object type (Account, Contact, Lead, Opportunity, Case, a custom object, …) with the given field values, as the connected user. ' +
    'Each call creates another record, so do not repeat it to retry. Required fields depend on the object (Name for an Account, LastName for a Contact, …); Salesforce names what is missing. ' +
    'Returns the new record\'s id.',
  inputSchema: input({ sobject: SOBJECT, fields: FIELD_VALUES('Field values of the new record') }, ['sobject', 'fields']),
  outputSchema: output({ sobject: { type: 'string' }, id: { type: 'string', description: 'Id of the new record.' }, success: { type: 'boolean' } }),
  annotations: ANNOTATIONS.create,
  async run(args, http) {
    const response = await http.post<SaveResult>(`${API}/sobjects/{sobject}/`, args.fields, { params: { sobject: args.sobject } });
    return { sobject: args.sobject, id: response.body.id, success: response.body.success };
  },
});

export interface UpdateRecordArgs extends CreateRecordArgs {
  readonly id: string;
}

/** PATCH /services/data/vXX.X/sobjects/{sObject}/{id} (204 No Content) — developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/dome_update_fields.htm */
export const updateRecord = defineTool<UpdateRecordArgs>({
  name: 'salesforce_update_record',
  title: 'Update a Salesforce record',
  description:
    'Sets fields of an existing Salesforce record, as the connected user; fields not given keep their values, null clears a field. ' +
    'The old values are overwritten and not returned: read them first with salesforce_get_record if they may be needed. Repeating the same update changes nothing more.',
  inputSchema: input({ sobject: SOBJECT, id: RECORD_ID, fields: FIELD_VALUES('Field values to set') }, ['sobject', 'id', 'fields']),
  outputSchema: output({ sobject: { type: 'string' }, id: { type: 'string' }, updated: { type: 'boolean', const: true } }),
  annotations: ANNOTATIONS.update,
  async run(args, http) {
    await http.patch(`${API}/sobjects/{sobject}/{id}`, args.fields, { params: { sobject: args.sobject, id: args.id } });
    return { sobject: args.sobject, id: args.id, updated: true };
  },
});
