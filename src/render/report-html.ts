import { createHash } from 'node:crypto';
import { formatDuration } from '../model/duration.js';
import { DAY_MS, TIMELINE_DAYS, type ReportGrant, type ReportModel } from '../report/model.js';
import { escapeHtml, escapeInvisible } from './escape.js';
import { PAGE_SCRIPT, PAGE_STYLE } from './report-page.js';

/**
 * The dashboard as one self-contained HTML page: it works from file://, asks for nothing (a strict
 * Content-Security-Policy allows only its own inline style and script, by hash), and carries its
 * data as a JSON block the script renders with textContent. Every string from history passes
 * escapeInvisible (controls, bidi overrides and zero-width characters shown as \uXXXX) and, where it
 * is written into the markup, escapeHtml; PR links are built from the configured repository URL and
 * a PR number, never from a URL found in the data.
 */

export interface PageOptions {
  /** The access repo's web URL from configuration (`https://github.com/owner/repo`), if known. */
  repoUrl: string | undefined;
  /** Per user: their calendar file under calendars/ and how many expiries it holds. */
  calendars: readonly { user: string; file: string; events: number }[];
}

type Column = { label: string; key?: string; kind: 'text' | 'mono' | 'state' | 'pr' | 'track' | 'calendar' };
interface Section {
  id: string;
  rows: string;
  caption: string;
  empty: string;
  columns: Column[];
  select?: { key: string; label: string };
}

const two = (n: number) => (n < 10 ? `0${n}` : String(n));
/** `2026-11-28 18:00Z`, formatted by hand: toISOString and a replace took half a second for 60,000 dates. */
function when(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}Z`;
}
const t = (s: string) => escapeInvisible(s);

function relative(ms: number, now: number): string {
  return ms >= now ? `in ${formatDuration(ms - now)}` : `${formatDuration(now - ms)} ago`;
}

function grantView(g: ReportGrant, now: number) {
  return {
    grant: t(g.grant),
    user: t(g.user),
    target: t(g.target),
    role: t(g.role),
    state: g.state,
    since: when(g.since),
    until: g.until === undefined ? 'never (no expiresAt)' : `${when(g.until)} (${relative(g.until, now)})`,
    approvers:
      g.approvalVerified === undefined
        ? 'none recorded'
        : `${g.approvers.map(t).join(', ') || 'nobody'}${g.approvalVerified ? '' : ' (unverified record)'}`,
    reason: t(g.ticket && !g.reason.includes(g.ticket) ? `${g.ticket}: ${g.reason}` : g.reason),
    ...(g.pr !== undefined && Number.isSafeInteger(g.pr) && g.pr > 0 ? { pr: g.pr } : {}),
    commit: /^[0-9a-f]{40}$/.test(g.commit) ? g.commit : '',
  };
}

const GRANT_COLUMNS: Column[] = [
  { label: 'Target', key: 'target', kind: 'text' },
  { label: 'User', key: 'user', kind: 'text' },
  { label: 'Role', key: 'role', kind: 'text' },
  { label: 'State', key: 'state', kind: 'state' },
  { label: 'Since', key: 'since', kind: 'text' },
  { label: 'Until', key: 'until', kind: 'text' },
  { label: 'Approvers', key: 'approvers', kind: 'text' },
  { label: 'PR', kind: 'pr' },
  { label: 'Grant', key: 'grant', kind: 'mono' },
  { label: 'Reason', key: 'reason', kind: 'text' },
];

/** The page's data block: what the script renders, every string already made visible. */
export function reportPageData(model: ReportModel, opts: PageOptions) {
  const now = model.now;
  const from = now - TIMELINE_DAYS * DAY_MS;
  const to = now + TIMELINE_DAYS * DAY_MS;
  const sections: Section[] = [
    {
      id: 't-access',
      rows: 'access',
      caption: 'Active grants, by target and user',
      empty: 'Nobody has access through a grant now.',
      columns: GRANT_COLUMNS,
      select: { key: 'target', label: 'Target' },
    },
    {
      id: 't-expiring',
      rows: 'expiring',
      caption: "Grants ending within their policy's expiring window, soonest first",
      empty: 'Nothing expires soon.',
      columns: GRANT_COLUMNS,
    },
    {
      id: 't-overdue',
      rows: 'overdue',
      caption: 'Grants still on main past their expiresAt (the reaper has not removed them)',
      empty: 'Nothing is overdue.',
      columns: [
        ...GRANT_COLUMNS.slice(0, 3),
        { label: 'Overdue by', key: 'overdueBy', kind: 'text' },
        { label: 'Access on target', key: 'present', kind: 'text' },
        ...GRANT_COLUMNS.slice(5),
      ],
    },
    {
      id: 't-pending',
      rows: 'pending',
      caption: 'Grants on main whose startsAt has not come',
      empty: 'No grant waits for its start.',
      columns: GRANT_COLUMNS,
    },
    ...(model.drift.checked
      ? [
          {
            id: 't-unexplained',
            rows: 'unexplained',
            caption: 'Access found on a target that no grant explains',
            empty: 'Every access found is explained by a grant.',
            columns: [
              { label: 'Target', key: 'target', kind: 'text' },
              { label: 'User', key: 'user', kind: 'text' },
              { label: 'Entitlement', key: 'entitlement', kind: 'text' },
              { label: 'Enforced', key: 'enforced', kind: 'text' },
            ],
          } satisfies Section,
          {
            id: 't-missing',
            rows: 'missing',
            caption: 'Approved, started grants whose target lacks the access',
            empty: 'Every active grant is applied.',
            columns: GRANT_COLUMNS,
          } satisfies Section,
        ]
      : []),
    {
      id: 't-timeline',
      rows: 'timeline',
      caption: `Grants from ${when(from)} to ${when(to)}, by target`,
      empty: 'No grant in the last or next 14 days.',
      columns: [
        { label: 'Target', key: 'target', kind: 'text' },
        { label: 'User', key: 'user', kind: 'text' },
        { label: 'Role', key: 'role', kind: 'text' },
        { label: 'Span', key: 'span', kind: 'text' },
        { label: 'Last 14 days and next 14 days', kind: 'track' },
        { label: 'Grant', key: 'grant', kind: 'mono' },
      ],
      select: { key: 'target', label: 'Target' },
    },
    {
      id: 't-calendars',
      rows: 'calendars',
      caption: 'One calendar of grant expiries per user',
      empty: 'No expiries to put in a calendar.',
      columns: [
        { label: 'User', key: 'user', kind: 'text' },
        { label: 'Calendar', key: 'file', kind: 'calendar' },
        { label: 'Expiries', key: 'events', kind: 'text' },
      ],
    },
  ];
  const drift = model.drift;
  return {
    repoUrl: opts.repoUrl ?? null,
    from,
    to,
    fromText: `-${TIMELINE_DAYS}d`,
    toText: `+${TIMELINE_DAYS}d`,
    sections,
    access: model.access.map((g) => grantView(g, now)),
    expiring: model.expiring.map((g) => grantView(g, now)),
    pending: model.pending.map((g) => grantView(g, now)),
    overdue: model.overdue.map((g) => ({
      ...grantView(g, now),
      overdueBy: formatDuration(g.overdueMs),
      present: g.accessPresent === undefined ? 'not checked' : g.accessPresent ? 'STILL PRESENT' : 'gone',
    })),
    unexplained: drift.checked
      ? drift.unexplained.map((d) => ({
          target: t(d.target),
          user: t(d.user),
          entitlement: t(d.entitlement),
          enforced: d.enforced ? 'yes: the next apply revokes it' : 'no: reported only',
        }))
      : [],
    missing: drift.checked ? drift.missing.map((g) => grantView(g, now)) : [],
    timeline: model.timeline.map((b) => ({
      target: t(b.target),
      user: t(b.user),
      role: t(b.role),
      grant: t(b.grant),
      k: b.kind,
      s: b.start,
      e: b.end ?? null,
      span: `${when(b.start)} to ${b.end === undefined ? 'no end' : when(b.end)} (${b.kind})`,
    })),
    calendars: opts.calendars.map((c) => ({ user: t(c.user), file: c.file, events: c.events })),
  };
}

/** JSON that cannot end its <script> element nor start a comment or a CDATA section in it. */
export function scriptJson(value: unknown): string {
  // One pass over what may be megabytes of JSON.
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => SCRIPT_ESCAPES[c]!);
}
const SCRIPT_ESCAPES: Record<string, string> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/** The policy the page carries: only its own style and script, no request of any kind. */
export const PAGE_CSP = [
  "default-src 'none'",
  `script-src ${sha256(PAGE_SCRIPT)}`,
  `style-src ${sha256(PAGE_STYLE)}`,
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/** The whole page. */
export function renderReportHtml(model: ReportModel, opts: PageOptions): string {
  const d = model.drift;
  const count = (n: number) => n.toLocaleString('en-US');
  const section = (id: string, title: string, n: number, table: string, extra = '') =>
    `<section aria-labelledby="${id}-h"><h2 id="${id}-h">${title} (${count(n)})</h2>${extra}<div id="${table}"><noscript><p>The tables need JavaScript (one inline script; the page makes no requests).</p></noscript></div></section>\n`;
  const driftNote = !d.checked
    ? '<p class="note">Drift was not checked: run <code>grantops report --observe</code> where the targets are reachable.</p>'
    : d.unreadable.length
      ? `<p class="note">Not read: ${d.unreadable.map((u) => `${escapeHtml(u.target)} (${escapeHtml(u.error)})`).join('; ')}</p>`
      : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${PAGE_CSP}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>grantops access report, ${when(model.now)}</title>
<style>${PAGE_STYLE}</style>
</head>
<body>
<header>
<h1>Access report</h1>
<p class="meta">At <time datetime="${new Date(model.now).toISOString()}">${when(model.now)}</time>: ${count(model.totals.onMain)} grant(s) on main over ${count(model.totals.targets)} target(s); ${count(model.totals.lifecycles)} grant(s) in the history.</p>
<p class="meta">Calendars of expiries: <a href="calendar.ics">calendar.ics</a> (everyone), and one per user below.</p>
</header>
<nav aria-label="Sections"><ul><li><a href="#now-h">Access now</a></li><li><a href="#expiring-h">Expiring soon</a></li><li><a href="#overdue-h">Overdue</a></li><li><a href="#pending-h">Pending</a></li><li><a href="#drift-h">Drift</a></li><li><a href="#timeline-h">Timeline</a></li><li><a href="#calendars-h">Calendars</a></li></ul></nav>
<main>
${section('now', 'Who has access now', model.access.length, 't-access')}${section('expiring', 'Expiring soon', model.expiring.length, 't-expiring')}${section('overdue', 'Overdue', model.overdue.length, 't-overdue')}${section('pending', 'Pending', model.pending.length, 't-pending')}<section aria-labelledby="drift-h"><h2 id="drift-h">Drift${d.checked ? ` (${count(d.unexplained.length + d.missing.length)})` : ''}</h2>${driftNote}${d.checked ? '<h3>Access no grant explains</h3><div id="t-unexplained"></div><h3>Grants whose access is missing</h3><div id="t-missing"></div>' : ''}</section>
${section('timeline', `Timeline: the last and next ${TIMELINE_DAYS} days`, model.timeline.length, 't-timeline')}${section('calendars', 'Calendars', opts.calendars.length, 't-calendars')}</main>
<script type="application/json" id="report-data">${scriptJson(reportPageData(model, opts))}</script>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}
