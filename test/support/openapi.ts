import { Ajv, type ValidateFunction } from 'ajv';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/**
 * GitHub's published REST description (@octokit/openapi), used to hold the local GitHub server to
 * the real API: every request it receives and every response it sends is checked against it.
 */
interface Operation {
  operationId: string;
  parameters?: { $ref?: string; name?: string; in?: string }[];
  requestBody?: { content?: Record<string, { schema?: unknown }> };
  responses: Record<string, Response | { $ref: string }>;
}
interface Response {
  content?: Record<string, { schema?: unknown }>;
}
interface Spec {
  paths: Record<string, Record<string, Operation>>;
  components: {
    parameters: Record<string, { name: string; in: string }>;
    /** Responses operations share by `$ref` (`not_found`, `validation_failed`, ...). */
    responses: Record<string, Response>;
  };
}

export interface MatchedOperation {
  operationId: string;
  pathTemplate: string;
  method: string;
  params: Record<string, string>;
  validateRequest(body: unknown, query: URLSearchParams): string[];
  validateResponse(status: number, body: unknown): string[];
}

let loaded: OpenApi | undefined;

export class OpenApi {
  private readonly ajv: Ajv;
  private readonly routes: {
    regex: RegExp;
    names: string[];
    template: string;
    ops: Record<string, Operation>;
  }[];
  private readonly cache = new Map<string, ValidateFunction>();

  private constructor(private readonly spec: Spec) {
    this.ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true, validateSchema: false });
    this.ajv.addSchema(spec, 'gh');
    this.routes = Object.entries(spec.paths).map(([template, ops]) => {
      const names: string[] = [];
      const regex = new RegExp(
        `^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{([^}]+)\\?\}/g, (_m, n: string) => {
          names.push(n);
          return '([^/]+)';
        })}$`,
      );
      return { regex, names, template, ops };
    });
    // Literal segments must win over parameters (`/teams/{team_slug}/members` vs others).
    this.routes.sort((a, b) => a.names.length - b.names.length);
  }

  /** Loads the 13 MB description once per process. */
  static load(): OpenApi {
    if (!loaded) {
      const require = createRequire(import.meta.url);
      const file = require.resolve('@octokit/openapi/generated/api.github.com.json');
      loaded = new OpenApi(normaliseNullable(JSON.parse(readFileSync(file, 'utf8'))) as Spec);
    }
    return loaded;
  }

  match(method: string, path: string): MatchedOperation | undefined {
    const m = method.toLowerCase();
    for (const route of this.routes) {
      const op = route.ops[m];
      if (!op) continue;
      const found = route.regex.exec(path);
      if (!found) continue;
      const params: Record<string, string> = {};
      route.names.forEach((n, i) => (params[n] = decodeURIComponent(found[i + 1] ?? '')));
      const pointer = `#/paths/${escapePointer(route.template)}/${m}`;
      return {
        operationId: op.operationId,
        pathTemplate: route.template,
        method: m,
        params,
        validateRequest: (body, query) => this.checkRequest(op, pointer, body, query),
        validateResponse: (status, body) => this.checkResponse(op, pointer, status, body),
      };
    }
    return undefined;
  }

  private checkRequest(op: Operation, pointer: string, body: unknown, query: URLSearchParams): string[] {
    const problems: string[] = [];
    const allowed = new Set(
      (op.parameters ?? [])
        .map((p) => (p.$ref ? this.spec.components.parameters[p.$ref.split('/').pop() ?? ''] : p))
        .filter((p): p is { name: string; in: string } => !!p && p.in === 'query')
        .map((p) => p.name),
    );
    for (const key of query.keys()) if (!allowed.has(key)) problems.push(`unknown query parameter "${key}"`);
    const content = op.requestBody?.content?.['application/json'];
    if (content?.schema !== undefined) {
      problems.push(
        ...this.check(`${pointer}/requestBody/content/application~1json/schema`, body, 'request body'),
      );
    } else if (body !== undefined && body !== null && Object.keys(body).length > 0) {
      problems.push('request has a body but the operation takes none');
    }
    return problems;
  }

  /**
   * A response is checked against what its operation documents for its status, directly or through
   * a shared `$ref` response (`#/components/responses/not_found`). Error answers (4xx, 5xx) are
   * held to GitHub's error shape even where the description leaves the body out or loose
   * (`basic-error` requires nothing): an object with a string `message`, which Octokit reports.
   * A documented success without a body must not have one.
   */
  private checkResponse(op: Operation, pointer: string, status: number, body: unknown): string[] {
    const documented = op.responses[String(status)];
    if (!documented) return [`status ${status} is not a documented response of ${op.operationId}`];
    let response: Response | undefined;
    let at: string;
    if ('$ref' in documented) {
      const name = /^#\/components\/responses\/([^/]+)$/.exec(documented.$ref)?.[1];
      response = name === undefined ? undefined : this.spec.components.responses[name];
      if (!response || name === undefined) return [`response ${status}: cannot resolve ${documented.$ref}`];
      at = `#/components/responses/${escapePointer(name)}`;
    } else {
      response = documented;
      at = `${pointer}/responses/${status}`;
    }
    const what = `response ${status}`;
    const empty = body === undefined || body === '';
    const problems: string[] = [];
    if (response.content?.['application/json']?.schema !== undefined) {
      problems.push(...this.check(`${at}/content/application~1json/schema`, body, what));
    } else if (status >= 400) {
      if (!empty) problems.push(...this.check('#/components/schemas/basic-error', body, what));
    } else if (!empty) {
      problems.push(`${what} has a body but the operation documents none`);
    }
    if (status >= 400) {
      const message = body && typeof body === 'object' ? (body as { message?: unknown }).message : undefined;
      if (typeof message !== 'string') problems.push(`${what} is an error without a string "message"`);
    }
    return problems;
  }

  private check(pointer: string, value: unknown, what: string): string[] {
    let fn = this.cache.get(pointer);
    if (!fn) {
      fn = this.ajv.compile({ $ref: `gh${pointer}` });
      this.cache.set(pointer, fn);
    }
    if (fn(value)) return [];
    return (fn.errors ?? []).slice(0, 5).map((e) => `${what}${e.instancePath} ${e.message ?? ''}`);
  }
}

/**
 * OpenAPI 3.0's `nullable` without a `type` (beside `allOf` or `$ref`) has no JSON Schema
 * meaning that ajv accepts; rewrite it as `anyOf: [schema, {type: null}]`, which is what it means.
 */
function normaliseNullable(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(normaliseNullable);
  if (!node || typeof node !== 'object') return node;
  const obj: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) obj[k] = normaliseNullable(v);
  if ('nullable' in obj && !('type' in obj)) {
    const { nullable, ...rest } = obj;
    return nullable === true ? { anyOf: [rest, { type: 'null' }] } : rest;
  }
  return obj;
}

function escapePointer(s: string): string {
  return s.replace(/~/g, '~0').replace(/\//g, '~1');
}
