import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import grantSchema from '../../schemas/grant.schema.json' with { type: 'json' };
import policySchema from '../../schemas/policy.schema.json' with { type: 'json' };
import {
  validateGrant,
  validatePolicy,
  validateSchema2020,
  type StandaloneValidate,
} from './generated/validators.js';

type FormatsPlugin = (ajv: Ajv2020, formats: string[]) => Ajv2020;
// ajv-formats is CommonJS: under NodeNext its default import is typed as the module object, while at
// run time (Node and esbuild alike) it is the plugin function itself or carries it as `.default`.
const addFormats: FormatsPlugin =
  typeof addFormatsModule === 'function'
    ? addFormatsModule
    : (addFormatsModule as unknown as { default: FormatsPlugin }).default;

/** A compiled validator that reports ajv errors (with parent schemas, for our messages). */
export interface CompiledSchema {
  validate(value: unknown): readonly ErrorObject[];
}

/** A policy's `grantSchema`, compiled the first time a grant is validated against it. */
export interface LazySchema extends CompiledSchema {
  /** Why the schema could not be compiled, once a validation tried to; undefined otherwise. */
  failure(): string | undefined;
}

/**
 * The JSON Schemas of this repo's `schemas/` folder, and the policies' own `grantSchema`s. The fixed
 * schemas are the single source of truth (editors read the same files through the
 * `yaml-language-server` comment); they are compiled at build time into standalone code
 * (scripts/gen-validators.mjs -> ./generated/validators.js, checked for staleness by `npm run lint`),
 * because compiling them cost every run about 50 ms (issue 15).
 */
export class SchemaRegistry {
  private extraAjv: Ajv2020 | undefined;
  readonly grant: CompiledSchema = wrap(validateGrant);
  readonly policy: CompiledSchema = wrap(validatePolicy);

  /** Compiles a policy's `grantSchema`; throws ajv's error when the schema itself is invalid. */
  compileExtra(schema: Record<string, unknown>): CompiledSchema {
    const { $schema: _ignored, ...rest } = schema;
    // ajv's own check against the meta-schema, with the meta-schema compiled at build time.
    if (!validateSchema2020(rest)) {
      const errors = (validateSchema2020.errors ?? []).map((e) => `data${e.instancePath} ${e.message}`);
      throw new Error(`schema is invalid: ${errors.join(', ') || 'No errors'}`);
    }
    return wrap(this.extra().compile(rest));
  }

  /**
   * A `grantSchema` compiled on first use: `validate --base` checks the few grants a change brings,
   * and compiling every policy's schema (plus ajv's meta-schema, on the first) cost more than the
   * rest of the check.
   */
  compileExtraLazily(schema: Record<string, unknown>): LazySchema {
    let compiled: CompiledSchema | undefined;
    let failure: string | undefined;
    return {
      validate: (value) => {
        if (!compiled && failure === undefined) {
          try {
            compiled = this.compileExtra(schema);
          } catch (err) {
            failure = err instanceof Error ? err.message : String(err);
          }
        }
        return compiled ? compiled.validate(value) : [];
      },
      failure: () => failure,
    };
  }

  private extra(): Ajv2020 {
    // Policy authors write short schemas (`required: [ticket]`) without `type`; everything else stays
    // strict, so a misspelt keyword is an error instead of a rule that silently checks nothing.
    if (!this.extraAjv) {
      // Kept in step with EXTRA_OPTIONS in scripts/gen-validators.mjs, which compiles the meta-schema
      // that compileExtra checks with (hence validateSchema: false here).
      this.extraAjv = new Ajv2020({
        allErrors: true,
        verbose: true,
        strict: true,
        strictTypes: false,
        strictRequired: false,
        validateSchema: false,
      });
      addFormats(this.extraAjv, ['date-time', 'uri', 'email']);
    }
    return this.extraAjv;
  }
}

function wrap(fn: StandaloneValidate): CompiledSchema {
  return {
    validate(value) {
      return fn(value) ? [] : [...(fn.errors ?? [])];
    },
  };
}

export { grantSchema, policySchema };
