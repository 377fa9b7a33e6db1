import { createRequire } from 'node:module';
import type { ErrorObject, ValidateFunction } from 'ajv';

// ajv ships CommonJS with its classes on `.default`; require keeps that unambiguous under ESM.
const require = createRequire(import.meta.url);
const AjvDraft07 = (require('ajv') as { default: typeof import('ajv').default }).default;
const Ajv2020 = (require('ajv/dist/2020') as { default: typeof import('ajv/dist/2020.js').default }).default;
const addFormats = (require('ajv-formats') as { default: typeof import('ajv-formats').default }).default;

const MAX_CACHED = 2000;

function describe(errors: ErrorObject[] | null | undefined): string {
  // Paths and keywords only: argument values may be secrets and never go into a message.
  return (errors ?? [])
    .slice(0, 5)
    .map((e) => `${e.instancePath || '(root)'} ${e.message ?? e.keyword}`)
    .join('; ');
}

/**
 * Validates tool arguments against the tool's input schema (JSON Schema 2020-12 or draft-07).
 * Policy checks every call with it, and the edge re-checks calls it serves from its
 * decision cache, so both say exactly the same thing about the same arguments.
 */
export class ArgumentValidator {
  private readonly modern = addFormats(new Ajv2020({ strict: false, allErrors: true, validateSchema: false }));
  private readonly draft07 = addFormats(new AjvDraft07({ strict: false, allErrors: true, validateSchema: false }));
  private readonly cache = new Map<string, ValidateFunction>();
  /**
   * The same schema object comes back call after call (from policy's tool catalog, or the
   * edge's cached decision): found by identity, it costs no JSON.stringify per call.
   */
  private readonly bySchema = new WeakMap<object, ValidateFunction>();

  /** undefined when valid, else a message without any argument value. */
  check(schema: Record<string, unknown>, args: Record<string, unknown>): string | undefined {
    let validate = this.bySchema.get(schema);
    if (!validate) {
      validate = this.compiled(schema);
      if (!validate) return 'the tool publishes an input schema that cannot be compiled';
      this.bySchema.set(schema, validate);
    }
    return validate(args) ? undefined : describe(validate.errors);
  }

  /** The schema's compiled validator, shared by equal schemas; undefined when it does not compile. */
  private compiled(schema: Record<string, unknown>): ValidateFunction | undefined {
    const key = JSON.stringify(schema);
    let validate = this.cache.get(key);
    if (validate) return validate;
    const dialect = typeof schema.$schema === 'string' && /draft-0[4-7]/.test(schema.$schema) ? this.draft07 : this.modern;
    try {
      const { $schema: _ignored, ...rest } = schema;
      validate = dialect.compile(rest);
    } catch {
      return undefined;
    }
    const oldest = this.cache.keys().next();
    if (this.cache.size >= MAX_CACHED && !oldest.done) this.cache.delete(oldest.value);
    this.cache.set(key, validate);
    return validate;
  }
}
