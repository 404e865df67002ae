import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isMap, isScalar, isSeq, parseDocument, type Document } from 'yaml';
import { PINS } from '../../src/scaffold/workflows.js';

/**
 * The workflows this repository ships: examples/workflows/ (what users copy into their access repo)
 * and .github/workflows/ (the project's own CI and self-test). None may run a pull request's code
 * with secrets or write access, and every action they use is pinned by commit.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SELF_TEST = '.github/workflows/self-test.yml';
const FOLDERS = ['examples/workflows', '.github/workflows'];
const PINNED = /^[A-Za-z0-9-]+\/[A-Za-z0-9._-]+(?:\/[^@\s]+)?@([0-9a-f]{40})$/;
const PR_EVENTS = ['pull_request', 'pull_request_review', 'pull_request_review_comment'];

interface Step {
  uses?: string;
  comment?: string;
  with?: Record<string, unknown>;
}
interface Job {
  name: string;
  permissions: unknown;
  steps: Step[];
  text: string;
}
interface Workflow {
  file: string;
  events: string[];
  permissions: unknown;
  jobs: Job[];
}

const files = FOLDERS.flatMap((dir) =>
  readdirSync(join(ROOT, dir))
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => `${dir}/${f}`),
);
const workflows: Workflow[] = files.map((file) => read(file));

function read(file: string): Workflow {
  const doc: Document = parseDocument(readFileSync(join(ROOT, file), 'utf8'));
  expect(doc.errors, file).toEqual([]);
  const top = (doc.toJS() ?? {}) as { on?: unknown; permissions?: unknown };
  const on = top.on;
  const events = typeof on === 'string' ? [on] : Array.isArray(on) ? on.map(String) : Object.keys(on ?? {});
  const jobsNode = doc.get('jobs');
  const jobs: Job[] = [];
  if (isMap(jobsNode)) {
    for (const pair of jobsNode.items) {
      const name = String(isScalar(pair.key) ? pair.key.value : pair.key);
      const job = pair.value;
      if (!isMap(job)) continue;
      const stepsNode = job.get('steps');
      const steps: Step[] = [];
      if (isSeq(stepsNode)) {
        for (const s of stepsNode.items) {
          if (!isMap(s)) continue;
          const uses = s.get('uses', true);
          const withNode = s.get('with');
          steps.push({
            ...(isScalar(uses) ? { uses: String(uses.value), comment: uses.comment ?? '' } : {}),
            ...(isMap(withNode) ? { with: withNode.toJSON() as Record<string, unknown> } : {}),
          });
        }
      }
      const js = job.toJSON() as { permissions?: unknown };
      jobs.push({ name, permissions: js.permissions, steps, text: JSON.stringify(js) });
    }
  }
  return { file, events, permissions: top.permissions, jobs };
}

const contentsWrite = (p: unknown) =>
  p === 'write-all' ||
  (typeof p === 'object' && p !== null && (p as Record<string, unknown>).contents === 'write');

describe('shipped workflows', () => {
  it('include the examples users copy and the self-test', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'examples/workflows/validate.yml',
        'examples/workflows/apply.yml',
        'examples/workflows/reap.yml',
        'examples/workflows/audit.yml',
        'examples/workflows/report.yml',
        'examples/workflows/request-from-issue.yml',
        SELF_TEST,
      ]),
    );
  });

  describe.each(workflows.map((w) => [w.file, w] as const))('%s', (file, wf) => {
    it('never runs on pull_request_target', () => {
      expect(wf.events).not.toContain('pull_request_target');
    });

    it('grants nothing at the top and least privilege per job', () => {
      expect(wf.permissions).toEqual({});
      for (const job of wf.jobs) {
        expect(job.permissions, `${file} job ${job.name} has no permissions:`).toBeTypeOf('object');
        expect(job.permissions).not.toBe('write-all');
      }
    });

    it('uses actions pinned by full commit sha with a # vX.Y.Z comment, ./ only in the self-test', () => {
      for (const job of wf.jobs) {
        for (const step of job.steps) {
          if (step.uses === undefined) continue;
          if (step.uses.startsWith('./') || step.uses === '.') {
            expect(file, `uses: ${step.uses} outside the self-test`).toBe(SELF_TEST);
            continue;
          }
          expect(step.uses, `${file}: ${step.uses}`).toMatch(PINNED);
          expect(step.comment, `${file}: ${step.uses} needs a # vX.Y.Z comment`).toMatch(
            /^\s*v\d+\.\d+\.\d+\s*$/,
          );
        }
      }
    });

    it('leaves no credentials in the checkout of a job that does not push', () => {
      for (const job of wf.jobs) {
        if (contentsWrite(job.permissions)) continue;
        for (const step of job.steps.filter((s) => s.uses?.startsWith('actions/checkout@'))) {
          expect(step.with?.['persist-credentials'], `${file} job ${job.name}`).toBe(false);
        }
      }
    });

    it('gives pull request code no secret and no write access to the repository', () => {
      if (!wf.events.some((e) => PR_EVENTS.includes(e))) return;
      for (const job of wf.jobs) {
        expect(job.text, `${file} job ${job.name}`).not.toMatch(/secrets\./);
        expect(contentsWrite(job.permissions), `${file} job ${job.name}`).toBe(false);
      }
    });
  });

  it('pin grantops in the examples to one commit of this repository', () => {
    const shas = new Set<string>();
    for (const wf of workflows.filter((w) => w.file.startsWith('examples/'))) {
      const uses = wf.jobs.flatMap((j) => j.steps).filter((s) => s.uses?.startsWith('grantops/grantops@'));
      expect(uses.length, wf.file).toBeGreaterThan(0);
      for (const s of uses) shas.add(PINNED.exec(s.uses ?? '')?.[1] ?? '');
    }
    expect(shas.size).toBe(1);
    const [sha] = [...shas];
    // A real commit, not a placeholder: git knows it (CI checks out the whole history).
    expect(() =>
      execFileSync('git', ['cat-file', '-e', `${sha}^{commit}`], { cwd: ROOT, stdio: 'ignore' }),
    ).not.toThrow();
  });
});

describe('the shipped schedule (issue 11)', () => {
  it('runs apply before reap, and reaps even when apply fails', () => {
    const doc = parseDocument(readFileSync(join(ROOT, 'examples/workflows/reap.yml'), 'utf8')).toJS() as {
      on: Record<string, unknown>;
      jobs: Record<string, { steps: { uses?: string; if?: string; with?: { command?: string } }[] }>;
    };
    expect(Object.keys(doc.on)).toContain('schedule');
    const steps = Object.values(doc.jobs).flatMap((j) => j.steps);
    const commands = steps.filter((s) => s.with?.command).map((s) => s.with!.command);
    expect(commands).toEqual(['apply', 'reap']);
    const reap = steps.find((s) => s.with?.command === 'reap')!;
    expect(reap.if).toMatch(/!cancelled\(\)|always\(\)/);
  });

  it('keeps target credentials in one environment of their own, never one that waits for a person', () => {
    // apply (push) and reap (every 15 minutes) read the same secrets from the same environment, which
    // docs/action.md says to limit to main and leave without required reviewers: a scheduled run must
    // never wait for an approval. Reusing `production` invites an environment that already has them.
    const environments = new Map<string, unknown>();
    for (const file of ['examples/workflows/apply.yml', 'examples/workflows/reap.yml']) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      const doc = parseDocument(text).toJS() as { jobs: Record<string, { environment?: unknown }> };
      for (const [name, job] of Object.entries(doc.jobs))
        environments.set(`${file} ${name}`, job.environment);
      expect(text, file).not.toMatch(/(give it|environment with) required reviewers/i);
    }
    expect(new Set(environments.values()), JSON.stringify([...environments])).toEqual(new Set(['grantops']));
    const advice = readFileSync(join(ROOT, 'docs/action.md'), 'utf8');
    expect(advice).toMatch(/Deployment branches: `main` only/);
    expect(advice).toMatch(/No required reviewers/);
  });
});

describe('the history cache in the scheduled workflows (issue 15)', () => {
  it.each(['examples/workflows/reap.yml', 'examples/workflows/audit.yml', 'examples/workflows/report.yml'])(
    '%s: restores .git/grantops before grantops runs, saves it after, and only from main',
    (file) => {
      const doc = parseDocument(readFileSync(join(ROOT, file), 'utf8')).toJS() as {
        jobs: Record<
          string,
          {
            steps: {
              uses?: string;
              if?: string;
              with?: Record<string, string>;
              env?: Record<string, string>;
            }[];
          }
        >;
      };
      const steps = Object.values(doc.jobs).flatMap((j) => j.steps);
      const at = (prefix: string) => steps.findIndex((s) => s.uses?.startsWith(prefix));
      const restore = steps[at('actions/cache/restore@')];
      const save = steps[at('actions/cache/save@')];
      const grantops = steps.flatMap((s, i) => (s.uses?.startsWith('grantops/grantops@') ? [i] : []));
      expect(restore && save, file).toBeTruthy();
      expect(at('actions/cache/restore@')).toBeLessThan(Math.min(...grantops));
      expect(at('actions/cache/save@')).toBeGreaterThan(Math.max(...grantops));
      expect(restore!.with?.path).toBe('.git/grantops');
      expect(save!.with?.path).toBe('.git/grantops');
      expect(save!.with?.key).toBe(restore!.with?.key);
      expect(restore!.with?.['restore-keys']).toBe('grantops-history-v1-');
      expect(restore!.if).toBeUndefined();
      expect(save!.if).toMatch(/github\.ref == 'refs\/heads\/main'/);
      expect(steps.filter((s) => s.uses?.startsWith('actions/cache@'))).toEqual([]);
      // Every grantops step checks the cache with the secret key: one a pull request's run wrote
      // (without the secret) is rebuilt, never read.
      for (const i of grantops)
        expect(steps[i]!.env?.GRANTOPS_CACHE_KEY, `${file} step ${i}`).toBe(
          '${{ secrets.GRANTOPS_CACHE_KEY }}',
        );
    },
  );
});

describe('the release workflow (issue 14)', () => {
  const doc = parseDocument(readFileSync(join(ROOT, '.github/workflows/release.yml'), 'utf8')).toJS() as {
    on: { push?: { tags?: string[] }; workflow_dispatch?: { inputs?: Record<string, unknown> } };
    jobs: Record<
      string,
      { needs?: string; environment?: string; permissions: Record<string, string>; steps: { run?: string }[] }
    >;
  };

  it('runs on a version tag, or by hand with a version', () => {
    expect(doc.on.push?.tags).toEqual(['v[0-9]+.[0-9]+.[0-9]+']);
    expect(Object.keys(doc.on.workflow_dispatch?.inputs ?? {})).toEqual(['version']);
  });

  it('writes only after a read-only job checked the version, the changelog and dist/', () => {
    const { verify, release } = doc.jobs;
    expect(verify?.permissions).toEqual({ contents: 'read' });
    const checks = verify?.steps.map((s) => s.run ?? '').join('\n');
    expect(checks).toContain('package.json');
    expect(checks).toContain('CHANGELOG.md');
    expect(checks).toContain('npm run check:dist');
    expect(release?.needs).toBe('verify');
    expect(release?.permissions).toEqual({ contents: 'write' });
    const script = release?.steps.map((s) => s.run ?? '').join('\n');
    expect(script).toContain('gh release create');
    expect(script).toMatch(/git push --force origin "refs\/tags\/\$major"/);
  });

  it('releases only a commit on main, behind an environment with reviewers', () => {
    const { release } = doc.jobs;
    expect(release?.environment).toBe('release');
    const script = release?.steps.map((s) => s.run ?? '').join('\n') ?? '';
    expect(script).toContain('git merge-base --is-ancestor "$SHA" origin/main');
    // The check runs before anything is created or moved.
    expect(script.indexOf('merge-base --is-ancestor')).toBeLessThan(script.indexOf('gh release create'));
  });
});

describe('the sharded reap (issue 15: scale-out)', () => {
  const doc = parseDocument(
    readFileSync(join(ROOT, 'examples/workflows/reap-sharded.yml'), 'utf8'),
  ).toJS() as {
    jobs: Record<
      string,
      {
        needs?: string;
        concurrency?: { group: string };
        strategy?: { 'fail-fast'?: boolean; matrix: { target: string[] } };
        steps: { uses?: string; with?: Record<string, string> }[];
      }
    >;
  };
  const grantopsSteps = (job: string) => doc.jobs[job]!.steps.filter((s) => s.uses?.includes('/grantops@'));

  it('one matrix job per target applies and revokes only its target, and commits nothing', () => {
    const shard = doc.jobs.shard!;
    expect(shard.strategy?.matrix.target.length).toBeGreaterThan(1);
    expect(shard.strategy?.['fail-fast']).toBe(false);
    expect(shard.concurrency?.group).toContain('${{ matrix.target }}');
    const [apply, reap] = grantopsSteps('shard');
    expect(apply?.with).toMatchObject({ command: 'apply', targets: '${{ matrix.target }}' });
    expect(reap?.with).toMatchObject({ command: 'reap', targets: '${{ matrix.target }}' });
    expect(reap?.with?.['shard-out']).toContain('${{ matrix.target }}');
  });

  it('one last job merges every shard into one cleanup commit, in the group apply and reap share', () => {
    const merge = doc.jobs.merge!;
    expect(merge.needs).toBe('shard');
    expect(merge.concurrency?.group).toBe('grantops-main');
    const [step] = grantopsSteps('merge');
    expect(step?.with?.command).toBe('reap');
    expect(step?.with?.['merge-shards']).toBeDefined();
    expect(step?.with?.targets).toBeUndefined();
  });
});

describe('the dashboard on GitHub Pages (issue 16)', () => {
  interface PagesStep {
    id?: string;
    uses?: string;
    if?: string;
    with?: Record<string, unknown>;
  }
  const doc = parseDocument(readFileSync(join(ROOT, 'examples/workflows/report.yml'), 'utf8')).toJS() as {
    on: Record<string, unknown>;
    jobs: Record<
      string,
      {
        needs?: string;
        if?: string;
        environment?: unknown;
        permissions: Record<string, string>;
        outputs?: Record<string, string>;
        steps: PagesStep[];
      }
    >;
  };
  const { report, pages } = doc.jobs;

  it('builds the report on a schedule, reading the targets for drift, with read-only contents', () => {
    expect(Object.keys(doc.on)).toEqual(expect.arrayContaining(['schedule', 'workflow_dispatch']));
    expect(report?.permissions).toEqual({ contents: 'read' });
    const step = report?.steps.find((s) => s.with?.command === 'report');
    expect(step?.id).toBe('report');
    expect(step?.with?.observe).toBe(true);
  });

  it('uploads the site with upload-pages-artifact only when the repository opts in, from main', () => {
    const steps = report!.steps;
    const at = steps.findIndex((s) => s.uses?.startsWith('actions/upload-pages-artifact@'));
    expect(at).toBeGreaterThan(steps.findIndex((s) => s.with?.command === 'report'));
    const upload = steps[at]!;
    expect(upload.uses).toBe(PINS.uploadPagesArtifact.uses);
    expect(upload.with?.path).toBe('${{ steps.report.outputs.report-dir }}');
    expect(upload.if).toContain("vars.GRANTOPS_DASHBOARD_PAGES == 'true'");
    expect(upload.if).toContain("github.ref == 'refs/heads/main'");
    expect(report?.outputs?.published).toBe(`\${{ steps.${upload.id}.outcome }}`);
  });

  it('deploys in a job of its own that holds only the Pages permissions and no checkout', () => {
    expect(pages?.needs).toBe('report');
    expect(pages?.if).toContain("needs.report.outputs.published == 'success'");
    expect(pages?.permissions).toEqual({ pages: 'write', 'id-token': 'write' });
    expect(pages?.environment).toMatchObject({ name: 'github-pages' });
    expect(pages?.steps.map((s) => s.uses)).toEqual([PINS.deployPages.uses]);
    expect(JSON.stringify(pages)).not.toMatch(/secrets\./);
  });
});

describe('requests from issues (issue 16)', () => {
  const file = 'examples/workflows/request-from-issue.yml';
  const text = readFileSync(join(ROOT, file), 'utf8');
  const doc = parseDocument(text).toJS() as {
    on: { issues?: { types?: string[] } };
    jobs: Record<
      string,
      {
        if?: string;
        permissions: Record<string, string>;
        steps: { uses?: string; with?: Record<string, unknown> }[];
      }
    >;
  };

  it('runs on issues opened and edited, with only the writes it needs and no checkout credentials', () => {
    expect(Object.keys(doc.on)).toEqual(['issues']);
    expect(doc.on.issues?.types).toEqual(expect.arrayContaining(['opened', 'edited']));
    const [job, ...others] = Object.values(doc.jobs);
    expect(others).toEqual([]);
    expect(job!.permissions).toEqual({ contents: 'write', 'pull-requests': 'write', issues: 'write' });
    expect(job!.if).toContain("'access-request'");
    const checkout = job!.steps.find((s) => s.uses?.startsWith('actions/checkout@'));
    expect(checkout?.with?.['persist-credentials']).toBe(false);
    const step = job!.steps.find((s) => s.uses?.startsWith('grantops/grantops@'));
    expect(step?.with?.command).toBe('request-from-issue');
  });

  it('is the workflow init writes, and its issue form is the one this repository carries', async () => {
    const { workflowFiles } = await import('../../src/scaffold/workflows.js');
    const { accessRequestForm, targetsOf, ISSUE_FORM_PATH } =
      await import('../../src/scaffold/issue-form.js');
    const pin = /grantops\/grantops@([0-9a-f]{40}) # (v\S+)/.exec(text)!;
    const scaffolded = workflowFiles({ uses: `grantops/grantops@${pin[1]}`, version: pin[2]! }).find((w) =>
      w.path.endsWith('/request-from-issue.yml'),
    );
    // The example is the scaffolded workflow under a copy-me header.
    const body = (t: string) => t.slice(t.indexOf('\nname: '));
    expect(body(text)).toBe(body(scaffolded!.text));
    const policies = readdirSync(join(ROOT, 'policies')).map((f) =>
      readFileSync(join(ROOT, 'policies', f), 'utf8'),
    );
    const own = readFileSync(join(ROOT, ISSUE_FORM_PATH), 'utf8');
    const form = (t: string) => t.slice(t.indexOf('\nname: '));
    expect(form(own)).toBe(form(accessRequestForm(targetsOf(policies))));
  });

  it('asks for exactly the fields the parser reads, with the label that marks a request', async () => {
    const { FORM_FIELDS, ACCESS_REQUEST_LABEL } = await import('../../src/model/issue-form.js');
    const form = parseDocument(
      readFileSync(join(ROOT, '.github/ISSUE_TEMPLATE/access-request.yml'), 'utf8'),
    ).toJS() as {
      labels: string[];
      body: { type: string; attributes: { label?: string; options?: string[] } }[];
    };
    expect(form.labels).toEqual([ACCESS_REQUEST_LABEL]);
    const fields = form.body.filter((b) => b.type !== 'markdown');
    expect(fields.map((f) => f.attributes.label)).toEqual(Object.keys(FORM_FIELDS));
    const target = fields.find((f) => f.attributes.label === 'Target')!;
    expect(target.attributes.options).toEqual(['payments-repo', 'platform-team', 'prod-db', 'vpn']);
  });
});
