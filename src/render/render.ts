import Handlebars from 'handlebars';
import { ConfigError, errorMessage } from '../model/errors.js';
import { escapeLine, escapeSlack } from './escape.js';
import { escapeStrings, escapeView } from './markdown.js';
import { DEFAULT_TEMPLATES, TEMPLATE_SINKS, type TemplateName } from './templates.js';

/** Where a template override may come from: usually the access repo's `templates/` at the base ref. */
export type TemplateSource = (name: TemplateName) => Promise<string | undefined>;

/**
 * Renders a named template with `view`. Strings in the view are escaped for the template's sink
 * (Markdown, a Slack webhook, a commit message) before the template sees them, and the template runs
 * with Handlebars' HTML escaping off (it would double-escape).
 */
export async function renderTemplate(
  name: TemplateName,
  view: object,
  source?: TemplateSource,
): Promise<string> {
  const override = source ? await source(name) : undefined;
  const text = override ?? DEFAULT_TEMPLATES[name];
  const hb = Handlebars.create();
  let compiled: Handlebars.TemplateDelegate;
  try {
    compiled = hb.compile(text, { noEscape: true, strict: false, knownHelpersOnly: false });
    return compiled(escapeFor(name, view), {
      allowProtoPropertiesByDefault: false,
      allowProtoMethodsByDefault: false,
    });
  } catch (err) {
    throw new ConfigError(`template templates/${name}.hbs cannot be rendered: ${errorMessage(err)}`);
  }
}

function escapeFor(name: TemplateName, view: object): object {
  switch (TEMPLATE_SINKS[name]) {
    case 'markdown':
      return escapeView(view);
    case 'slack':
      return escapeStrings(view, escapeSlack);
    case 'line':
      // Values on one line: a value can never forge a trailer or a new paragraph.
      return escapeStrings(view, escapeLine);
  }
}
