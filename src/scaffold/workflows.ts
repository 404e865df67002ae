/**
 * The workflows `grantops init` writes, modelled on examples/workflows/ (and held to the same
 * checks: least-privilege permissions, every action pinned by commit with a `# vX.Y.Z` comment).
 */

/** A `uses:` line's value and its version comment. */
export interface Pin {
  uses: string;
  version: string;
}

/** Actions grantops' workflows use, each pinned by the commit of a release tag. */
export const PINS = {
  checkout: { uses: 'actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683', version: 'v4.2.2' },
  uploadArtifact: {
    uses: 'actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02',
    version: 'v4.6.2',
  },
  // The release commit of v4.2.3 (its package.json says 4.2.3); restore/ and save/ are its halves.
  cacheRestore: {
    uses: 'actions/cache/restore@5a3ec84eff668545956fd18022155c47e93e2684',
    version: 'v4.2.3',
  },
  cacheSave: { uses: 'actions/cache/save@5a3ec84eff668545956fd18022155c47e93e2684', version: 'v4.2.3' },
  // The release commits of v3.0.1 and v4.0.5, as public workflows pin them.
  uploadPagesArtifact: {
    uses: 'actions/upload-pages-artifact@56afc609e74202658d3ffba0e8f6dda462b719fa',
    version: 'v3.0.1',
  },
  deployPages: { uses: 'actions/deploy-pages@d6db90164ac5ed86f2b6aed7e0febac5b3c0c03e', version: 'v4.0.5' },
  // The release commit of v2.0.6 (its package.json says 2.0.6), as public workflows pin it.
  appToken: {
    uses: 'actions/create-github-app-token@df432ceedc7162793a195dd1713ff69aefc7379e',
    version: 'v2.0.6',
  },
} as const satisfies Record<string, Pin>;

const use = (p: Pin) => `${p.uses} # ${p.version}`;

const HEADER = (what: string) =>
  `# Written by grantops init. ${what}\n# grantops and every other action are pinned by commit: update a pin by changing sha and comment together.\n`;

/** Mints the GitHub App token GitHub targets are managed with; only the apply and reap jobs have it. */
const appTokenStep = `      # Managing org teams and collaborators needs more than GITHUB_TOKEN: a token of your GitHub App,
      # minted for this run (it lives an hour), from the App id and key kept in the grantops environment.
      - id: app-token
        uses: ${use(PINS.appToken)}
        with:
          app-id: \${{ secrets.GRANTOPS_APP_ID }}
          private-key: \${{ secrets.GRANTOPS_APP_PRIVATE_KEY }}
          owner: \${{ github.repository_owner }} # the whole installation: teams and every repo it manages
`;

/**
 * What grantops read of main's history (.git/grantops), reused so that a run reads only the commits
 * since the last one. Restored on any ref; saved only by runs on main, so no other branch's run can
 * seed what main's runs start from. Only a speed-up: grantops checks it and rebuilds it when it is
 * not below main's tip, never trusts it as evidence (SECURITY.md).
 */
const cacheRestoreStep = `      # What grantops read of main's history, reused: a run reads only the commits since the last one.
      # Only a speed-up, never evidence: checked against main's line and rebuilt when it does not fit.
      - name: Restore the history cache
        uses: ${use(PINS.cacheRestore)}
        with:
          path: .git/grantops
          key: grantops-history-v1-\${{ github.sha }}
          restore-keys: grantops-history-v1-
`;
const cacheSaveStep = `      # Saved only from main: a run on any other ref cannot seed what main's runs start from.
      - name: Save the history cache
        if: \${{ !cancelled() && github.ref == 'refs/heads/main' }}
        uses: ${use(PINS.cacheSave)}
        with:
          path: .git/grantops
          key: grantops-history-v1-\${{ github.sha }}
`;

// The history cache is checked with this key (HMAC): a cache a run without the secret wrote (a pull
// request's) is rebuilt, never read.
const cacheKey = `          GRANTOPS_CACHE_KEY: \${{ secrets.GRANTOPS_CACHE_KEY }}
`;

const targetEnv = `        env:
          PROD_DB_URL: \${{ secrets.PROD_DB_URL }} # policies/prod-db.yaml's urlEnv
          # and the variables your exec policies name in env: (a script sees those, nothing else)
`;

function validate(grantops: Pin): string {
  return `${HEADER('Judges grant pull requests by the policies of their base branch.')}# pull_request, never pull_request_target: the PR's files are read as data by a pinned grantops, with a
# token that can comment and nothing else, and no secret. No paths filter: a skipped required check
# blocks the merge, and a change to scripts/ (code exec targets run) must be called out too.
name: grantops validate
on:
  pull_request:
  pull_request_review:
    types: [submitted, dismissed]

permissions: {}

concurrency:
  group: grantops-validate-\${{ github.event.pull_request.number }}
  cancel-in-progress: true

jobs:
  validate:
    runs-on: ubuntu-latest
    timeout-minutes: 10
    permissions:
      contents: read
      pull-requests: write # the sticky plan comment
    steps:
      - uses: ${use(PINS.checkout)}
        with:
          fetch-depth: 0 # the base commit's policies are read with git
          persist-credentials: false
      - uses: ${use(grantops)}
        with:
          command: validate
`;
}

function apply(grantops: Pin): string {
  return `${HEADER('On merge: checks approvals, then brings every target to the state the repo describes.')}# Shares its concurrency group with the reaper: never two at once. The grantops environment holds the
# target credentials: deployment branches limited to main, and NO required reviewers (the merged PR's
# review is the approval; reap.yml uses the same environment on a schedule and must never wait).
name: grantops apply
on:
  push:
    branches: [main]
    paths: ['grants/**', 'policies/**']
  workflow_dispatch:

permissions: {}

concurrency:
  group: grantops-main
  cancel-in-progress: false

jobs:
  apply:
    runs-on: ubuntu-latest
    timeout-minutes: 20
    environment: grantops # main only, no required reviewers (docs/action.md#credentials-and-environments)
    permissions:
      contents: write # push approval notes (refs/notes/grantops): the checkout keeps its credentials
      pull-requests: read # find the PR and its reviews
      issues: write # report grants refused for missing approval
    steps:
      - uses: ${use(PINS.checkout)}
        with:
          fetch-depth: 0
${appTokenStep}      - uses: ${use(grantops)}
        with:
          command: apply
          admin-token: \${{ steps.app-token.outputs.token }}
${targetEnv}          # Signs approval evidence, so a note a writer pushes by hand keeps no access.
          GRANTOPS_EVIDENCE_KEY: \${{ secrets.GRANTOPS_EVIDENCE_KEY }}
`;
}

function reap(grantops: Pin): string {
  return `${HEADER('Every 15 minutes: applies what is due, revokes what expired, commits the removal.')}# Revocation is state-based: any run converges, whatever runs were skipped before it.
name: grantops reap
on:
  schedule:
    - cron: '*/15 * * * *'
  workflow_dispatch:

permissions: {}

concurrency:
  group: grantops-main
  cancel-in-progress: false

jobs:
  reap:
    runs-on: ubuntu-latest
    timeout-minutes: 20
    # Runs unattended: the environment limits its secrets to main by deployment branch policy and has
    # no required reviewers, or every scheduled run would wait for a person.
    environment: grantops
    permissions:
      contents: write # push the cleanup commit and approval notes: the checkout keeps its credentials
      pull-requests: write # find PRs and reviews; expiry reminders; the cleanup PR when main is protected
      issues: write # refusal and overdue-access alerts
    steps:
      - uses: ${use(PINS.checkout)}
        with:
          fetch-depth: 0
${cacheRestoreStep}${appTokenStep}      # An apply first: a grant whose startsAt has come is applied within one interval, and drift left
      # by a skipped apply run is corrected.
      - uses: ${use(grantops)}
        with:
          command: apply
          admin-token: \${{ steps.app-token.outputs.token }}
${targetEnv}          GRANTOPS_EVIDENCE_KEY: \${{ secrets.GRANTOPS_EVIDENCE_KEY }}
${cacheKey}      # Revoking never waits on apply: an unresolved refusal fails the step above, not this one.
      - if: \${{ !cancelled() }}
        uses: ${use(grantops)}
        with:
          command: reap
          admin-token: \${{ steps.app-token.outputs.token }}
${targetEnv}          # Notes keep access only if signed by this key (not by whatever key main carries).
          GRANTOPS_EVIDENCE_PUBLIC_KEY: \${{ vars.GRANTOPS_EVIDENCE_PUBLIC_KEY }}
          # Signs the break-glass reviews the reaper records (audit --verify trusts only signed ones).
          GRANTOPS_EVIDENCE_KEY: \${{ secrets.GRANTOPS_EVIDENCE_KEY }}
${cacheKey}${cacheSaveStep}`;
}

function audit(grantops: Pin): string {
  return `${HEADER('Monthly and on demand: audit --verify over the whole history, kept as an artifact.')}name: grantops audit
on:
  schedule:
    - cron: '17 6 1 * *'
  workflow_dispatch:
    inputs:
      at:
        description: Also answer who had access at this RFC 3339 instant
        required: false

permissions: {}

jobs:
  audit:
    runs-on: ubuntu-latest
    timeout-minutes: 20
    permissions:
      contents: read # history and refs/notes/grantops; the audit changes nothing
    steps:
      - uses: ${use(PINS.checkout)}
        with:
          fetch-depth: 0 # all of main's history
          persist-credentials: false
      # The approval evidence lives in refs/notes/grantops, which checkout does not fetch. The token is
      # given to this one git command, never written to .git/config where later steps could read it.
      - name: Fetch the approval evidence
        env:
          TOKEN: \${{ github.token }}
        run: |
          auth=$(printf 'x-access-token:%s' "$TOKEN" | base64 -w0)
          git -c "http.extraheader=AUTHORIZATION: basic $auth" fetch --no-tags origin \\
            '+refs/notes/grantops:refs/notes/grantops' || echo 'no approval evidence recorded yet'
${cacheRestoreStep}      - id: audit
        uses: ${use(grantops)}
        with:
          command: audit
          verify: true # fails the job on findings: unapproved, overdue, over maxDuration
          at: \${{ inputs.at }}
        env:
${cacheKey}      - if: always() && steps.audit.outputs.audit-file != ''
        uses: ${use(PINS.uploadArtifact)}
        with:
          name: grantops-audit
          path: \${{ steps.audit.outputs.audit-file }}
          retention-days: 400
${cacheSaveStep}`;
}

/**
 * The dashboard, hourly: built with the target credentials (drift), published to GitHub Pages only
 * when the repository opts in, by a job of its own that holds nothing but the Pages permissions.
 */
function report(grantops: Pin): string {
  return `${HEADER('Hourly: the access dashboard and calendars of expiries, published to GitHub Pages.')}# Pages of a private repository are public unless your plan offers private Pages, and the dashboard
# names every user, target and reason: it is published only when the repository variable
# GRANTOPS_DASHBOARD_PAGES is 'true' (Settings > Pages > Source: GitHub Actions).
name: grantops report
on:
  schedule:
    - cron: '7 * * * *'
  workflow_dispatch:

permissions: {}

concurrency:
  group: grantops-report
  cancel-in-progress: true

jobs:
  report:
    runs-on: ubuntu-latest
    timeout-minutes: 15
    environment: grantops # the target credentials: drift is read from each target (observe)
    permissions:
      contents: read # history and refs/notes/grantops; the report changes nothing
    outputs:
      published: \${{ steps.pages-artifact.outcome }}
    steps:
      - uses: ${use(PINS.checkout)}
        with:
          fetch-depth: 0 # all of main's history
          persist-credentials: false
      - name: Fetch the approval evidence
        env:
          TOKEN: \${{ github.token }}
        run: |
          auth=$(printf 'x-access-token:%s' "$TOKEN" | base64 -w0)
          git -c "http.extraheader=AUTHORIZATION: basic $auth" fetch --no-tags origin \\
            '+refs/notes/grantops:refs/notes/grantops' || echo 'no approval evidence recorded yet'
${cacheRestoreStep}${appTokenStep}      - id: report
        uses: ${use(grantops)}
        with:
          command: report
          observe: true
          admin-token: \${{ steps.app-token.outputs.token }}
${targetEnv}${cacheKey}      - id: pages-artifact
        if: \${{ vars.GRANTOPS_DASHBOARD_PAGES == 'true' && github.ref == 'refs/heads/main' }}
        uses: ${use(PINS.uploadPagesArtifact)}
        with:
          path: \${{ steps.report.outputs.report-dir }}
${cacheSaveStep}
  pages:
    needs: report
    if: \${{ needs.report.outputs.published == 'success' }}
    runs-on: ubuntu-latest
    timeout-minutes: 10
    permissions:
      pages: write # publish the dashboard
      id-token: write # deploy-pages proves the run to Pages with an OIDC token
    environment:
      name: github-pages
      url: \${{ steps.deploy.outputs.page_url }}
    steps:
      - id: deploy
        uses: ${use(PINS.deployPages)}
`;
}

function requestFromIssue(grantops: Pin): string {
  return `${HEADER('Turns an access-request issue (the form in .github/ISSUE_TEMPLATE/) into a pull request.')}# The default branch's workflow, with the issue's text as data only: grantops parses the form by strict
# patterns, the grant is for the issue's author (set by GitHub, never read from the body), and nothing is
# created for bots, for other issues, or for edits by anyone but the author. No secret is needed.
name: grantops request from issue
on:
  issues:
    types: [opened, edited, reopened]

permissions: {}

concurrency:
  group: grantops-request-\${{ github.event.issue.number }}
  cancel-in-progress: false

jobs:
  request:
    if: \${{ contains(github.event.issue.labels.*.name, 'access-request') }}
    runs-on: ubuntu-latest
    timeout-minutes: 10
    permissions:
      contents: write # the request's branch, made through the API (the checkout keeps no credentials)
      pull-requests: write # the pull request carrying the plan
      issues: write # the answer on the issue: the link, or what is wrong
    steps:
      - uses: ${use(PINS.checkout)}
        with:
          persist-credentials: false
      - uses: ${use(grantops)}
        with:
          command: request-from-issue
          # A pull request opened with GITHUB_TOKEN starts no workflow, so validate would not run on it
          # by itself: a GitHub App token limited to this repository avoids that (docs/action.md).
          token: \${{ secrets.GRANTOPS_REQUEST_TOKEN || github.token }}
`;
}

/** `.github/workflows/*.yml` with grantops pinned to `grantops`. */
export function workflowFiles(grantops: Pin): { path: string; text: string }[] {
  return [
    { path: '.github/workflows/validate.yml', text: validate(grantops) },
    { path: '.github/workflows/apply.yml', text: apply(grantops) },
    { path: '.github/workflows/reap.yml', text: reap(grantops) },
    { path: '.github/workflows/audit.yml', text: audit(grantops) },
    { path: '.github/workflows/report.yml', text: report(grantops) },
    { path: '.github/workflows/request-from-issue.yml', text: requestFromIssue(grantops) },
  ];
}
