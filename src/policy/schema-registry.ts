import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import grantSchema from '../../schemas/grant.schema.json' with { type: 'json' };
import policySchema from '../../schemas/policy.schema.json' with { type: 'json' };

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

/**
 * The JSON Schemas of this repo's `schemas/` folder, compiled once. They are the single source of
 * truth: editors read the same files through the `yaml-language-server` comment.
 */
export class SchemaRegistry {
  private readonly ajv: Ajv2020;
  private readonly extraAjv: Ajv2020;
  readonly grant: CompiledSchema;
  readonly policy: CompiledSchema;

  constructor() {
    this.ajv = new Ajv2020({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true });
    addFormats(this.ajv, ['date-time', 'uri', 'email']);
    // Annotation keywords our schemas carry for editors and for error messages.
    this.ajv.addVocabulary(['x-message', 'x-parse', 'markdownDescription']);
    // Policy authors write short schemas (`required: [ticket]`) without `type`; everything else stays
    // strict, so a misspelt keyword is an error instead of a rule that silently checks nothing.
    this.extraAjv = new Ajv2020({
      allErrors: true,
      verbose: true,
      strict: true,
      strictTypes: false,
      strictRequired: false,
    });
    addFormats(this.extraAjv, ['date-time', 'uri', 'email']);
    this.grant = wrap(this.ajv.compile(grantSchema));
    this.policy = wrap(this.ajv.compile(policySchema));
  }

  /** Compiles a policy's `grantSchema`; throws ajv's error when the schema itself is invalid. */
  compileExtra(schema: Record<string, unknown>): CompiledSchema {
    const { $schema: _ignored, ...rest } = schema;
    return wrap(this.extraAjv.compile(rest));
  }
}

function wrap(fn: ValidateFunction): CompiledSchema {
  return {
    validate(value) {
      return fn(value) ? [] : [...(fn.errors ?? [])];
    },
  };
}

export { grantSchema, policySchema };
