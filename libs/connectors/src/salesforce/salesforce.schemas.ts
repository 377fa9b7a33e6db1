import { JSON_SCHEMA_2020_12, type JsonSchema } from '../native/native-connector.definition.js';

/**
 * Schema fragments and result mappers shared by the Salesforce tools
 * (developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest). Records keep
 * Salesforce's own field names; the `attributes` block ({type, url}) on every record is
 * dropped, the object's type being known from the call.
 */

/** The REST API version every path is under (Summer '24). */
export const SALESFORCE_API_VERSION = 'v61.0';
export const API = `/services/data/${SALESFORCE_API_VERSION}`;

// ---- input fragments ------------------------------------------------------------------

export const SOBJECT = {
  type: 'string',
  description: 'API name of the object, e.g. "Account", "Contact", "Opportunity", or a custom object such as "Invoice__c".',
  pattern: '^[A-Za-z][A-Za-z0-9_]{0,79}$',
} as const;

export const RECORD_ID = {
  type: 'string',
  description: 'The record id, 15 or 18 characters, e.g. "001D000000INjVeIAL".',
  pattern: '^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$',
} as const;

export const FIELD_NAME = { type: 'string', pattern: '^[A-Za-z][A-Za-z0-9_]{0,79}$' } as const;

/** Field values of a record to write: API field names to JSON values. */
export const FIELD_VALUES = (what: string) =>
  ({
    type: 'object',
    description: `${what}: API field names (e.g. "Name", "Industry", "Amount", "Custom__c") to values. Dates as "2024-01-31", date-times as ISO 8601, lookups as record ids, null to clear a field.`,
    propertyNames: FIELD_NAME,
    additionalProperties: { anyOf: [{ type: 'string', maxLength: 131072 }, { type: 'number' }, { type: 'boolean' }, { type: 'null' }] },
    minProperties: 1,
    maxProperties: 500,
  }) as const;

/** An input schema: 2020-12, closed, with these properties. */
export function input(properties: Record<string, JsonSchema>, required: readonly string[], extra: JsonSchema = {}): JsonSchema {
  return { $schema: JSON_SCHEMA_2020_12, type: 'object', properties, required, additionalProperties: false, ...extra };
}

/** An output schema: 2020-12, with these properties, all present. */
export function output(properties: Record<string, JsonSchema>): JsonSchema {
  return { $schema: JSON_SCHEMA_2020_12, type: 'object', properties, required: Object.keys(properties) };
}

export const RECORD = { type: 'object', description: 'Field names to values, as Salesforce returns them; related records nested under the relationship name.' } as const;

// ---- Salesforce's answers ---------------------------------------------------------------

export interface QueryResult {
  readonly totalSize: number;
  readonly done: boolean;
  readonly nextRecordsUrl?: string;
  readonly records: readonly Record<string, unknown>[];
}

export interface SaveResult {
  readonly id: string;
  readonly success: boolean;
  readonly errors: readonly unknown[];
}

// ---- mapping ----------------------------------------------------------------------------

/** A record without the `attributes` blocks Salesforce puts on it and on each related record or sub-query. */
export function plainRecord(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plainRecord);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (k !== 'attributes') out[k] = plainRecord(v);
  return out;
}
