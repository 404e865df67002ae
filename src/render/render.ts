import Handlebars from 'handlebars';
import { ConfigError, errorMessage } from '../model/errors.js';
import { escapeView } from './markdown.js';
import { DEFAULT_TEMPLATES, type TemplateName } from './templates.js';

/** Where a template override may come from: usually the access repo's `templates/` at the base ref. */
export type TemplateSource = (name: TemplateName) => Promise<string | undefined>;

/**
 * Renders a named template with `view`. Strings in the view are escaped for Markdown before the
 * template sees them, and the template runs with Handlebars' HTML escaping off (it would double-escape).
 */
export async function renderTemplate(
  name: TemplateName,
  view: object,
  source?: TemplateSource,
): Promise<string> {
  // Plain-text templates (commit messages) get values with line breaks folded instead of Markdown escaping.
  const plain = name.endsWith('.txt');
  const override = source ? await source(name) : undefined;
  const text = override ?? DEFAULT_TEMPLATES[name];
  const hb = Handlebars.create();
  let compiled: Handlebars.TemplateDelegate;
  try {
    compiled = hb.compile(text, { noEscape: true, strict: false, knownHelpersOnly: false });
    return compiled(plain ? foldLines(view) : escapeView(view), {
      allowProtoPropertiesByDefault: false,
      allowProtoMethodsByDefault: false,
    });
  } catch (err) {
    throw new ConfigError(`template templates/${name}.hbs cannot be rendered: ${errorMessage(err)}`);
  }
}

/** Deep copy with every string on one line: a value can never forge a trailer or a new paragraph. */
function foldLines<T>(value: T): T {
  if (typeof value === 'string') return value.replace(/[\r\n]+/g, ' ') as T;
  if (Array.isArray(value)) return value.map((v: unknown) => foldLines(v)) as T;
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, foldLines(v)])) as T;
  }
  return value;
}
