/**
 * The dashboard's one stylesheet and one script, inlined and allowed by hash in the page's
 * Content-Security-Policy: nothing else may run or load. The script builds every table from the
 * JSON data block with textContent (never innerHTML), 100 rows a page behind a filter box, so a
 * repository with tens of thousands of grants stays usable.
 */

export const PAGE_STYLE = `
:root { color-scheme: light; --fg: #1b1f24; --muted: #4d5661; --line: #d0d7de; --bg: #fff; --soft: #f4f6f8;
  --active: #1a7f37; --expiring: #9a6700; --overdue: #cf222e; --pending: #4d5661; --past: #8c959f; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
header, main, nav { padding: 0 1.5rem; }
header { border-bottom: 1px solid var(--line); padding-top: .5rem; padding-bottom: .5rem; }
h1 { font-size: 1.5rem; margin: .4rem 0; }
h2 { font-size: 1.15rem; margin: 1.6rem 0 .5rem; }
nav ul { list-style: none; display: flex; flex-wrap: wrap; gap: 1rem; padding: 0; margin: .6rem 0; }
a { color: #0550ae; }
.meta { color: var(--muted); margin: .2rem 0; }
.controls { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem; margin: .4rem 0; }
input, select, button { font: inherit; padding: .2rem .45rem; border: 1px solid #6e7781; border-radius: 4px; background: #fff; color: var(--fg); }
button:disabled { color: #6e7781; }
table { border-collapse: collapse; width: 100%; }
caption { text-align: left; color: var(--muted); padding: .2rem 0; }
th, td { border-bottom: 1px solid var(--line); padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: var(--soft); font-weight: 600; }
td.mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; word-break: break-all; }
.state { font-weight: 600; }
.state.active { color: var(--active); } .state.expiring { color: var(--expiring); }
.state.overdue { color: var(--overdue); } .state.pending { color: var(--pending); }
.track { position: relative; height: 1.1rem; min-width: 16rem; background: var(--soft); border-radius: 3px; }
.bar { position: absolute; top: .15rem; height: .8rem; border-radius: 3px; }
.bar.active { background: var(--active); } .bar.pending { background: var(--pending); }
.bar.overdue { background: var(--overdue); } .bar.past { background: var(--past); }
.nowline { position: absolute; left: 50%; top: 0; bottom: 0; width: 2px; background: var(--fg); }
.axis { display: flex; justify-content: space-between; min-width: 16rem; font-weight: 400; }
.note { background: var(--soft); border-left: 3px solid var(--expiring); padding: .4rem .7rem; }
`;

export const PAGE_SCRIPT = `
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var PAGE = 100;
  var KINDS = { active: 'active', expiring: 'expiring', overdue: 'overdue', pending: 'pending', past: 'past' };
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function text(key) { return function (td, r) { td.textContent = r[key] === undefined ? '' : String(r[key]); }; }
  function mono(key) { return function (td, r) { td.className = 'mono'; td.textContent = r[key] || ''; }; }
  function state(key) {
    return function (td, r) { td.appendChild(el('span', { class: 'state ' + (KINDS[r[key]] || '') }, r[key])); };
  }
  function pr(td, r) {
    if (typeof r.pr !== 'number') { td.textContent = r.commit ? r.commit.slice(0, 7) : ''; return; }
    if (!data.repoUrl) { td.textContent = '#' + r.pr; return; }
    td.appendChild(el('a', { href: data.repoUrl + '/pull/' + r.pr, rel: 'noopener noreferrer' }, '#' + r.pr));
  }
  function calendar(td, r) { td.appendChild(el('a', { href: 'calendars/' + r.file }, r.file)); }
  function track(td, r) {
    var span = data.to - data.from;
    var t = el('div', { class: 'track', role: 'img', 'aria-label': r.span });
    var s = Math.max(r.s, data.from);
    var e = r.e === null ? data.to : Math.min(r.e, data.to);
    var b = el('div', { class: 'bar ' + (KINDS[r.k] || '') });
    b.style.left = ((s - data.from) / span) * 100 + '%';
    b.style.width = Math.max(0.5, ((e - s) / span) * 100) + '%';
    t.appendChild(b);
    t.appendChild(el('div', { class: 'nowline' }));
    td.appendChild(t);
  }
  var CELLS = { text: text, mono: mono, state: state };
  function column(c) {
    if (c.kind === 'pr') return pr;
    if (c.kind === 'track') return track;
    if (c.kind === 'calendar') return calendar;
    return CELLS[c.kind](c.key);
  }
  function pagedTable(section) {
    var root = document.getElementById(section.id);
    if (!root) return;
    var rows = data[section.rows] || [];
    root.textContent = '';
    if (!rows.length) { root.appendChild(el('p', null, section.empty)); return; }
    var id = section.id;
    var controls = el('div', { class: 'controls' });
    var input = el('input', { id: id + '-filter', type: 'search', autocomplete: 'off' });
    controls.appendChild(el('label', { for: id + '-filter' }, 'Filter'));
    controls.appendChild(input);
    var select = null;
    if (section.select) {
      select = el('select', { id: id + '-select' });
      select.appendChild(el('option', { value: '' }, 'all'));
      var seen = {};
      rows.forEach(function (r) { seen[r[section.select.key]] = true; });
      Object.keys(seen).sort().forEach(function (v) { select.appendChild(el('option', { value: v }, v)); });
      controls.appendChild(el('label', { for: id + '-select' }, section.select.label));
      controls.appendChild(select);
    }
    var prev = el('button', { type: 'button' }, 'Previous page');
    var next = el('button', { type: 'button' }, 'Next page');
    var status = el('span', { role: 'status' });
    controls.appendChild(prev);
    controls.appendChild(next);
    controls.appendChild(status);
    var table = el('table');
    table.appendChild(el('caption', null, section.caption));
    var head = el('tr');
    var cells = section.columns.map(function (c) {
      var th = el('th', { scope: 'col' }, c.label);
      if (c.kind === 'track') {
        th.textContent = '';
        var axis = el('div', { class: 'axis' });
        axis.appendChild(el('span', null, data.fromText));
        axis.appendChild(el('span', null, 'now'));
        axis.appendChild(el('span', null, data.toText));
        th.appendChild(el('span', null, c.label));
        th.appendChild(axis);
      }
      head.appendChild(th);
      return column(c);
    });
    var thead = el('thead');
    thead.appendChild(head);
    table.appendChild(thead);
    var body = el('tbody');
    table.appendChild(body);
    root.appendChild(controls);
    root.appendChild(table);
    var shown = rows;
    var page = 0;
    function haystack(r) {
      if (r._q === undefined)
        r._q = section.columns.map(function (c) { return c.key ? String(r[c.key] || '') : ''; }).join(' ').toLowerCase();
      return r._q;
    }
    function render() {
      var pages = Math.max(1, Math.ceil(shown.length / PAGE));
      if (page > pages - 1) page = pages - 1;
      var frag = document.createDocumentFragment();
      shown.slice(page * PAGE, page * PAGE + PAGE).forEach(function (r) {
        var tr = el('tr');
        cells.forEach(function (cell) { var td = el('td'); cell(td, r); tr.appendChild(td); });
        frag.appendChild(tr);
      });
      body.textContent = '';
      body.appendChild(frag);
      status.textContent = shown.length + ' of ' + rows.length + ' row(s), page ' + (page + 1) + ' of ' + pages;
      prev.disabled = page === 0;
      next.disabled = page >= pages - 1;
    }
    function filter() {
      var q = input.value.trim().toLowerCase();
      var only = select ? select.value : '';
      shown = rows.filter(function (r) {
        return (!only || r[section.select.key] === only) && (!q || haystack(r).indexOf(q) >= 0);
      });
      if (!q && !only) shown = rows;
      page = 0;
      render();
    }
    input.addEventListener('input', filter);
    if (select) select.addEventListener('change', filter);
    prev.addEventListener('click', function () { page--; render(); });
    next.addEventListener('click', function () { page++; render(); });
    render();
  }
  data.sections.forEach(pagedTable);
  document.documentElement.setAttribute('data-ready', 'true');
})();
`;
