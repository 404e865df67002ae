import { describe, expect, it } from 'vitest';
import { MAX_FORM_BYTES, parseIssueForm } from '../../src/model/issue-form.js';
import { formBody } from '../support/issue-form.js';

describe('parseIssueForm', () => {
  it('reads the fields of a submitted form; "_No response_" is no ticket', () => {
    expect(parseIssueForm(formBody({}))).toEqual({
      ok: true,
      request: { target: 'vpn', role: 'ops', for: '2h', reason: 'INC-7 vpn flaps' },
    });
    const r = parseIssueForm(
      formBody({ Ticket: 'INC-42', Reason: 'two\r\nlines  of\twhy' }).replace(/\n/g, '\r\n'),
    );
    expect(r).toEqual({
      ok: true,
      request: { target: 'vpn', role: 'ops', for: '2h', reason: 'two lines of why', ticket: 'INC-42' },
    });
  });

  it('leaves an issue that is not the form alone', () => {
    expect(parseIssueForm('The VPN is down again, please help')).toMatchObject({ ok: false, notAForm: true });
    expect(parseIssueForm('')).toMatchObject({ ok: false, notAForm: true });
  });

  it.each([
    ['a target with SQL in it', { Target: 'alice"; DROP ROLE x' }, 'Target must be a target name'],
    ['a role with a space', { Role: 'read only' }, 'Role must be a role name'],
    ['a duration that is not one', { Duration: '2 hours' }, 'Duration must be a duration'],
    ['a zero duration', { Duration: '0h' }, 'Duration must be a duration'],
    ['a ticket with markup', { Ticket: '<script>alert(1)</script>' }, 'Ticket must be an id'],
    ['no reason', { Reason: '_No response_' }, 'Reason is required'],
    ['no target', { Target: '' }, 'Target is required'],
    [
      'a reason with a bidi override',
      { Reason: 'fix \u202eevil' },
      'Reason has control or invisible characters',
    ],
    ['a reason with a NUL', { Reason: 'a\u0000b' }, 'Reason has control or invisible characters'],
    ['a reason too long', { Reason: 'x'.repeat(501) }, 'Reason is over 500 characters'],
  ])('refuses %s', (_what, fields, problem) => {
    const r = parseIssueForm(formBody(fields));
    expect(r.ok).toBe(false);
    expect(!r.ok && r.problems.join('\n')).toContain(problem);
    expect(!r.ok && r.notAForm).toBe(false);
  });

  it('accepts only the form: no extra section, none twice, nothing before the first', () => {
    const extra = parseIssueForm(`${formBody({})}\n\n### User\n\nmallory`);
    expect(extra).toMatchObject({
      ok: false,
      problems: ['the section "User" is not part of the access request form'],
    });
    // A heading typed into the reason would otherwise replace a field chosen in a dropdown.
    const twice = parseIssueForm(formBody({ Reason: 'because\n\n### Role\n\nreadwrite' }));
    expect(twice).toMatchObject({ ok: false, problems: ['the section "Role" appears more than once'] });
    const before = parseIssueForm(`hello\n\n${formBody({})}`);
    expect(before).toMatchObject({
      ok: false,
      problems: ['the body has text before the first section of the form'],
    });
  });

  it('refuses a body over the bound without reading it', () => {
    const r = parseIssueForm(formBody({ Reason: 'x'.repeat(MAX_FORM_BYTES) }));
    expect(r).toEqual({
      ok: false,
      notAForm: false,
      problems: [`the issue body is over ${MAX_FORM_BYTES} bytes`],
    });
  });
});
