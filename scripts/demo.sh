#!/usr/bin/env bash
# The quick start's main job: grantops on this repo's own example access repo, offline, with the
# committed bundle (no install, no credentials, no network). Time is pinned so the output is stable.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
grantops() { node "$root/dist/cli.js" "$@"; }
export GRANTOPS_NOW="${GRANTOPS_NOW:-2026-11-28T12:00:00Z}"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "validate the example access repo at $GRANTOPS_NOW"
grantops --repo "$root" validate

step "status of every grant"
grantops --repo "$root" status

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
git init -q -b main "$scratch/access"
cp -R "$root/grants" "$root/policies" "$root/schemas" "$scratch/access/"
export GIT_AUTHOR_NAME=demo GIT_AUTHOR_EMAIL=demo@example.invalid GIT_COMMITTER_NAME=demo GIT_COMMITTER_EMAIL=demo@example.invalid
git -C "$scratch/access" add -A && git -C "$scratch/access" commit -qm "example access repo"
git -C "$scratch/access" checkout -q -b request-access

step "a pull request: request 2h of readonly on prod-db for frank"
path="$(grantops --repo "$scratch/access" request --user frank --target prod-db --role readonly --for 2h \
  --reason "INC-4230 replication lag on orders" --ticket INC-4230)"
cat "$scratch/access/$path"
git -C "$scratch/access" add -A && git -C "$scratch/access" commit -qm "grant: frank readonly on prod-db"

step "the same PR also tries to loosen the policy it is judged by (maxDuration 8h -> 72h) and asks for 2 days"
sed -i.bak 's/maxDuration: 8h/maxDuration: 72h/' "$scratch/access/policies/prod-db.yaml" && rm "$scratch/access/policies/prod-db.yaml.bak"
grantops --repo "$scratch/access" request --user frank --target prod-db --role readonly --for 2d \
  --reason "INC-4230 follow-up" --ticket INC-4230 >/dev/null
git -C "$scratch/access" add -A && git -C "$scratch/access" commit -qm "loosen prod-db and take 2 days"

step "validate --base main: judged by main's policies, the 2-day grant is refused (exit 1 expected)"
set +e
grantops --repo "$scratch/access" validate --base main
code=$?
set -e
echo "exit code: $code"
[ "$code" -eq 1 ] || { echo "demo: expected exit 1 from validate --base" >&2; exit 1; }

step "request refuses what policy forbids (exit 1 expected)"
set +e
grantops --repo "$scratch/access" request --user frank --target prod-db --role readwrite --for 3h --reason x --ticket INC-1
code=$?
set -e
echo "exit code: $code"
[ "$code" -eq 1 ] || { echo "demo: expected exit 1 from request" >&2; exit 1; }
printf '\ndemo finished: the example validates, and a PR cannot loosen the rules that judge it.\n'
