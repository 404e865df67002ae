/**
 * The access-request issue form (`.github/ISSUE_TEMPLATE/access-request.yml`, written by `init`) as
 * GitHub renders a submitted one: `### Label\n\nvalue` per field, `_No response_` for an empty
 * optional one. The body is untrusted text anyone who can open an issue writes: it is read only up
 * to a bound, only the form's own headings are accepted, each once, and every value must match a
 * strict pattern. Who is asking never comes from here (the issue's author does).
 */

/** The label the form puts on every issue it opens; an issue without it is not a request. */
export const ACCESS_REQUEST_LABEL = 'access-request';
/** Larger bodies are refused unread: the form's fields fit in a fraction of it. */
export const MAX_FORM_BYTES = 8 * 1024;
export const MAX_REASON_CHARS = 500;

/** The form's labels, as the headings of the rendered body, and the fields they fill. */
export const FORM_FIELDS = {
  Target: 'target',
  Role: 'role',
  Duration: 'for',
  Reason: 'reason',
  Ticket: 'ticket',
} as const;

export interface IssueFormRequest {
  target: string;
  role: string;
  /** A duration such as `2h`. */
  for: string;
  reason: string;
  ticket?: string;
}

export type IssueFormResult =
  | { ok: true; request: IssueFormRequest }
  /** `notAForm`: none of the form's headings: some other issue, left alone. */
  | { ok: false; notAForm: boolean; problems: string[] };

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const DURATION = /^[1-9][0-9]{0,3}(?:m|h|d)$/;
const TICKET = /^[A-Za-z0-9][A-Za-z0-9._:#/-]{0,63}$/;
// C0/C1 controls but tab and line feed, and the bidi and invisible format characters.
const hidden = (text: string) =>
  [...text].some((ch) => {
    const c = ch.codePointAt(0)!;
    return (
      (c < 0x20 && c !== 0x09 && c !== 0x0a) ||
      (c >= 0x7f && c <= 0x9f) ||
      (c >= 0x200b && c <= 0x200f) ||
      (c >= 0x202a && c <= 0x202e) ||
      (c >= 0x2060 && c <= 0x2069) ||
      c === 0xfeff
    );
  });
const NO_RESPONSE = '_No response_';

/** Parses a submitted access-request form. Pure. */
export function parseIssueForm(body: string): IssueFormResult {
  if (Buffer.byteLength(body, 'utf8') > MAX_FORM_BYTES) {
    return { ok: false, notAForm: false, problems: [`the issue body is over ${MAX_FORM_BYTES} bytes`] };
  }
  const lines = body.replace(/\r\n?/g, '\n').split('\n');
  const sections = new Map<string, string[]>();
  const problems: string[] = [];
  let current: string[] | undefined;
  for (const line of lines) {
    const heading = /^###[ \t]+(.*?)[ \t]*$/.exec(line);
    if (heading) {
      const label = heading[1]!;
      if (!Object.hasOwn(FORM_FIELDS, label)) {
        problems.push(`the section "${label.slice(0, 40)}" is not part of the access request form`);
        current = [];
        continue;
      }
      if (sections.has(label)) problems.push(`the section "${label}" appears more than once`);
      sections.set(label, (current = []));
      continue;
    }
    if (current) current.push(line);
    else if (line.trim() !== '') problems.push('the body has text before the first section of the form');
  }
  if (sections.size === 0) return { ok: false, notAForm: true, problems: ['not an access request form'] };

  const value = (label: keyof typeof FORM_FIELDS): string | undefined => {
    const text = (sections.get(label) ?? []).join('\n').trim();
    return text === '' || text === NO_RESPONSE ? undefined : text;
  };
  const required = (label: keyof typeof FORM_FIELDS, pattern: RegExp, what: string): string => {
    const v = value(label);
    if (v === undefined) problems.push(`${label} is required`);
    else if (!pattern.test(v)) problems.push(`${label} must be ${what}`);
    return v ?? '';
  };
  const target = required('Target', NAME, 'a target name (letters, digits, ".", "_" or "-")');
  const role = required('Role', NAME, 'a role name (letters, digits, ".", "_" or "-")');
  const duration = required('Duration', DURATION, 'a duration such as 30m, 2h or 1d');
  const rawReason = value('Reason');
  let reason = '';
  if (rawReason === undefined) problems.push('Reason is required');
  else if (hidden(rawReason)) problems.push('Reason has control or invisible characters');
  else {
    reason = rawReason.replace(/\s+/g, ' ');
    if ([...reason].length > MAX_REASON_CHARS) problems.push(`Reason is over ${MAX_REASON_CHARS} characters`);
  }
  const ticket = value('Ticket');
  if (ticket !== undefined && !TICKET.test(ticket))
    problems.push('Ticket must be an id such as INC-4211 (letters, digits, ".", "_", ":", "#", "/" or "-")');
  if (problems.length > 0) return { ok: false, notAForm: false, problems };
  return {
    ok: true,
    request: { target, role, for: duration, reason, ...(ticket !== undefined ? { ticket } : {}) },
  };
}
