#!/usr/bin/env bash
# The quick start's main job: the grantops loop on this repo's own example access repo, offline, with
# the committed bundle (no install, no credentials, no network). Time is pinned so output is stable.
# The example's exec target (scripts/vpn-access.mjs) stands in for a real system: it keeps its
# "VPN profiles" in a JSON file in the scratch directory.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
grantops() { node "$root/dist/cli.js" "$@"; }
export GRANTOPS_NOW="${GRANTOPS_NOW:-2026-11-28T12:00:00Z}"
if [ -t 1 ]; then step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }; else step() { printf '\n== %s\n' "$*"; }; fi
expect_exit() { # expect_exit CODE command...
  local want=$1; shift
  set +e; "$@"; local got=$?; set -e
  echo "exit code: $got"
  [ "$got" -eq "$want" ] || { echo "demo: expected exit $want" >&2; exit 1; }
}

step "validate the example access repo at $GRANTOPS_NOW"
grantops --repo "$root" validate

step "status of every grant"
grantops --repo "$root" status

scratch="$(mktemp -d)"
github_pid=""
trap '[ -n "$github_pid" ] && kill "$github_pid" 2>/dev/null; rm -rf "$scratch"' EXIT
repo="$scratch/access"
export GRANTOPS_VPN_STATE="$scratch/vpn-state.json"
export GIT_AUTHOR_NAME=demo GIT_AUTHOR_EMAIL=demo@example.invalid GIT_COMMITTER_NAME=demo GIT_COMMITTER_EMAIL=demo@example.invalid
# The story happens on 2026-11-28 whatever today is: commits carry the story's time, not the clock's.
export GIT_AUTHOR_DATE=2026-11-28T11:00:00Z GIT_COMMITTER_DATE=2026-11-28T11:00:00Z
git init -q -b main "$repo"
cp -R "$root/policies" "$root/schemas" "$root/scripts" "$repo/"
git -C "$repo" add -A && git -C "$repo" commit -qm "access repo: policies and the vpn script"

# Approval comes from GitHub, never from anything in the repo. Offline, a loopback stand-in answers
# the API calls apply makes; the demo tells it about each "pull request" as it is merged.
echo '{"pulls":[]}' > "$scratch/github.json"
node "$root/scripts/demo-github.mjs" "$scratch/github.json" "$repo" "$scratch/port" &
github_pid=$!
for _ in $(seq 50); do [ -s "$scratch/port" ] && break; sleep 0.1; done
export GITHUB_TOKEN=demo GITHUB_REPOSITORY=acme/access GITHUB_API_URL="http://127.0.0.1:$(cat "$scratch/port")"
merge_pr() { # merge_pr BRANCH NUMBER AUTHOR APPROVER: merge as the button does, and record the review
  local head; head="$(git -C "$repo" rev-parse "$1")"
  git -C "$repo" checkout -q main
  git -C "$repo" merge -q --no-ff -m "Merge pull request #$2 from acme/$1" "$1"
  node -e 'const fs=require("fs");const [f,n,a,h,m,r]=process.argv.slice(1);const s=JSON.parse(fs.readFileSync(f));s.pulls.push({number:+n,author:a,head:h,merge:m,mergedAt:"2026-11-28T11:00:00Z",reviews:[{user:r,state:"APPROVED"}]});fs.writeFileSync(f,JSON.stringify(s))' \
    "$scratch/github.json" "$2" "$3" "$head" "$(git -C "$repo" rev-parse HEAD)" "$4"
}
git -C "$repo" checkout -q -b example-grants
cp -R "$root/grants" "$repo/"
git -C "$repo" add -A && git -C "$repo" commit -qm "the example grants"
merge_pr example-grants 9 lea bob

step "a pull request asks for 2h of VPN ops access for frank"
git -C "$repo" checkout -q -b request-access
path="$(grantops --repo "$repo" request --user frank --target vpn --role ops --for 2h \
  --reason "CHG-1190 rotate the bastion host keys" --ticket CHG-1190)"
cat "$repo/$path"
git -C "$repo" add -A && git -C "$repo" commit -qm "grant: frank ops on vpn"

step "validate --base main: the plan reviewers see"
grantops --repo "$repo" validate --base main

step "the same PR also loosens the policy that judges it (8h -> 72h) and asks for 2 days: refused"
git -C "$repo" checkout -q -b sneaky request-access
sed -i.bak 's/maxDuration: 8h/maxDuration: 72h/' "$repo/policies/prod-db.yaml" && rm "$repo/policies/prod-db.yaml.bak"
grantops --repo "$repo" request --user frank --target prod-db --role readonly --for 2d \
  --reason "INC-4230 follow-up" --ticket INC-4230 >/dev/null
git -C "$repo" add -A && git -C "$repo" commit -qm "loosen prod-db and take 2 days"
expect_exit 1 grantops --repo "$repo" validate --base main

step "bob approves and the request is merged"
merge_pr request-access 12 frank bob
git -C "$repo" log -1 --format='%h %s'

step "apply --dry-run: the plan for the vpn target"
grantops --repo "$repo" apply --target vpn --dry-run

step "apply at 13:30: bob's reviews are read from GitHub; frank, and erin (whose grant started at 13:00), get VPN access"
GRANTOPS_NOW=2026-11-28T13:30:00Z grantops --repo "$repo" apply --target vpn
echo "evidence recorded for auditors (refs/notes/grantops): $(git -C "$repo" notes --ref=grantops list | wc -l) commit(s)"
echo "vpn profiles now: $(tr -d ' \n' < "$GRANTOPS_VPN_STATE")"

step "time passes (--now 2026-11-28T17:30:00Z): status --observe shows access outliving its grant"
GRANTOPS_NOW=2026-11-28T17:30:00Z grantops --repo "$repo" status --observe 2>/dev/null | grep -E "GRANT|vpn/" || true

step "the scheduled reaper: revoke expired grants on their targets, then one cleanup commit"
# Taking access away never needs GitHub: the reaper runs without a token here.
GRANTOPS_NOW=2026-11-28T17:30:00Z GITHUB_TOKEN= grantops --repo "$repo" reap 2>&1 | grep -v -E "^(unreachable|refused):" || true
echo "vpn profiles now: $(tr -d ' \n' < "$GRANTOPS_VPN_STATE")"

step "the audit log is git history: the cleanup commit, then grantops audit for frank"
git -C "$repo" log -1 --format='%B'
GRANTOPS_NOW=2026-11-28T17:30:00Z grantops --repo "$repo" audit --user frank

step "a grant pushed straight to main, with a hand-written approval note, is refused (exit 1 expected)"
mkdir -p "$repo/grants/vpn"
cat > "$repo/grants/vpn/mallory-ops.yaml" <<'YAML'
user: mallory
target: vpn
role: ops
reason: CHG-1 nothing to see
ticket: CHG-1
expiresAt: 2026-11-28T20:00:00Z
YAML
GIT_COMMITTER_DATE=2026-11-28T17:00:00Z git -C "$repo" add -A && GIT_COMMITTER_DATE=2026-11-28T17:00:00Z git -C "$repo" commit -qm "grant: mallory (no pull request)"
git -C "$repo" notes --ref=grantops add -m '{"grantops":1,"grants":{"vpn/mallory-ops":{"pr":12,"approvers":["bob"]}}}' HEAD
GRANTOPS_NOW=2026-11-28T17:30:00Z expect_exit 1 grantops --repo "$repo" apply --target vpn --dry-run 2>&1

printf '\ndemo finished: requested, judged by the base policy, approved, applied, and revoked on expiry.\n'
