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
# Leaves nothing behind: the scratch directory, and the stand-in GitHub, waited for until it is gone.
trap 'rm -rf "$scratch"; [ -z "$github_pid" ] || { kill "$github_pid"; wait "$github_pid"; }' EXIT
repo="$scratch/access"
export VPN_STATE_FILE="$scratch/vpn-state.json"
export GIT_AUTHOR_NAME=demo GIT_AUTHOR_EMAIL=demo@example.invalid GIT_COMMITTER_NAME=demo GIT_COMMITTER_EMAIL=demo@example.invalid
# The story happens on 2026-11-28 whatever today is: commits carry the story's time, not the clock's.
export GIT_AUTHOR_DATE=2026-11-28T11:00:00Z GIT_COMMITTER_DATE=2026-11-28T11:00:00Z
# The story's access repo holds the one example target reachable offline, vpn (an exec script); the
# others need a GitHub organisation (payments-repo, platform-team) or PostgreSQL (prod-db).
git init -q -b main "$repo"
mkdir -p "$repo/policies" "$repo/scripts" "$repo/.grantops"
cp -R "$root/schemas" "$repo/"
cp "$root/policies/vpn.yaml" "$repo/policies/"
cp "$root/scripts/vpn-access.mjs" "$repo/scripts/"
# Apply signs the approval evidence it records (a secret of the apply workflow); the public half is
# committed, so audit --verify can tell grantops' records from notes anyone could have written.
# The demo's key comes from a fixed seed (a PKCS#8 prefix and 32 bytes), so its commit ids are stable.
node -e 'const c = require("crypto"), fs = require("fs");
  const k = c.createPrivateKey({ key: Buffer.from("302e020100300506032b657004220420" + "d3".repeat(32), "hex"), format: "der", type: "pkcs8" });
  fs.writeFileSync(process.argv[1], k.export({ type: "pkcs8", format: "pem" }));
  fs.writeFileSync(process.argv[2], c.createPublicKey(k).export({ type: "spki", format: "pem" }));' \
  "$scratch/evidence-key.pem" "$repo/.grantops/evidence-key.pub"
export GRANTOPS_EVIDENCE_KEY="$(cat "$scratch/evidence-key.pem")"
git -C "$repo" add -A && git -C "$repo" commit -qm "access repo: the vpn policy, its script, the evidence key"

# Approval comes from GitHub, never from anything in the repo. Offline, a loopback stand-in answers
# the API calls apply makes; the demo tells it about each pull request as it is merged and reviewed.
echo '{"pulls":[]}' > "$scratch/github.json"
node "$root/scripts/demo-github.mjs" "$scratch/github.json" "$repo" "$scratch/port" &
github_pid=$!
for _ in $(seq 50); do [ -s "$scratch/port" ] && break; sleep 0.1; done
[ -s "$scratch/port" ] || { echo "demo: the stand-in GitHub did not start" >&2; exit 1; }
export GITHUB_TOKEN=demo GITHUB_REPOSITORY=acme/access GITHUB_API_URL="http://127.0.0.1:$(cat "$scratch/port")"
merge_pr() { # merge_pr BRANCH NUMBER AUTHOR APPROVER: merge as the button does; GitHub keeps the review
  local head; head="$(git -C "$repo" rev-parse "$1")"
  git -C "$repo" checkout -q main
  git -C "$repo" merge -q --no-ff -m "Merge pull request #$2 from acme/$1" "$1"
  node -e 'const fs=require("fs");const [f,n,a,h,m,r]=process.argv.slice(1);const s=JSON.parse(fs.readFileSync(f));s.pulls.push({number:+n,author:a,head:h,merge:m,mergedAt:"2026-11-28T11:00:00Z",reviews:[{user:r,state:"APPROVED"}]});fs.writeFileSync(f,JSON.stringify(s))' \
    "$scratch/github.json" "$2" "$3" "$head" "$(git -C "$repo" rev-parse HEAD)" "$4"
}
git -C "$repo" checkout -q -b example-grants
mkdir -p "$repo/grants"
cp -R "$root/grants/vpn" "$repo/grants/"
git -C "$repo" add -A && git -C "$repo" commit -qm "the example's vpn grant"
merge_pr example-grants 9 lea bob

step "a pull request asks for 2h of VPN ops access for frank"
git -C "$repo" checkout -q -b request-access
path="$(grantops --repo "$repo" request --user frank --target vpn --role ops --for 2h \
  --reason "CHG-1190 rotate the bastion host keys" --ticket CHG-1190)"
cat "$repo/$path"
git -C "$repo" add -A && git -C "$repo" commit -qm "grant: frank ops on vpn"

step "validate --base main: the plan reviewers see"
grantops --repo "$repo" validate --base main

step "the same PR also loosens the policy that judges it (12h -> 72h) and asks for 2 days: refused"
git -C "$repo" checkout -q -b sneaky request-access
sed -i.bak 's/maxDuration: 12h/maxDuration: 72h/' "$repo/policies/vpn.yaml" && rm "$repo/policies/vpn.yaml.bak"
grantops --repo "$repo" request --user frank --target vpn --role ops --for 2d \
  --reason "CHG-1191 and the rest of the week" --ticket CHG-1191 >/dev/null
git -C "$repo" add -A && git -C "$repo" commit -qm "loosen vpn and take 2 days"
expect_exit 1 grantops --repo "$repo" validate --base main

step "bob approves and the request is merged"
merge_pr request-access 12 frank bob
git -C "$repo" log -1 --format='%h %s'

step "apply --dry-run: the plan"
grantops --repo "$repo" apply --dry-run

step "apply at 13:30: bob's reviews are read from GitHub; frank, and erin (whose grant started at 13:00), get VPN access"
GRANTOPS_NOW=2026-11-28T13:30:00Z grantops --repo "$repo" apply
echo "evidence recorded for auditors (refs/notes/grantops): $(git -C "$repo" notes --ref=grantops list | wc -l | tr -d ' ') commit(s)"
echo "vpn profiles now: $(tr -d ' \n' < "$VPN_STATE_FILE")"

step "13:45, mallory pushes a grant straight to main: GitHub knows no pull request for it, so apply refuses it (exit 1)"
cat > "$repo/grants/vpn/mallory-ops.yaml" <<'YAML'
user: mallory
target: vpn
role: ops
reason: CHG-1 nothing to see
ticket: CHG-1
expiresAt: 2026-11-28T20:00:00Z
YAML
git -C "$repo" add -A
GIT_AUTHOR_NAME=mallory GIT_AUTHOR_EMAIL=mallory@example.invalid GIT_AUTHOR_DATE=2026-11-28T13:45:00Z \
  GIT_COMMITTER_DATE=2026-11-28T13:45:00Z git -C "$repo" commit -qm "grant: mallory ops on vpn"
GRANTOPS_NOW=2026-11-28T13:45:00Z expect_exit 1 grantops --repo "$repo" apply
echo "vpn profiles now: $(tr -d ' \n' < "$VPN_STATE_FILE")"

step "time passes (--now 2026-11-28T17:30:00Z): status --observe shows access outliving its grant"
GRANTOPS_NOW=2026-11-28T17:30:00Z grantops --repo "$repo" status --observe

step "the scheduled reaper: revoke expired grants on their targets, then one cleanup commit"
# Taking access away never needs GitHub: the reaper runs without a token here.
GRANTOPS_NOW=2026-11-28T17:30:00Z GITHUB_TOKEN= grantops --repo "$repo" reap
echo "vpn profiles now: $(tr -d ' \n' < "$VPN_STATE_FILE")"

step "the audit log is git history: frank's grant from request to revocation"
GRANTOPS_NOW=2026-11-28T17:30:00Z grantops --repo "$repo" audit --user frank

step "audit --verify: frank's access outlived his grant by 3h 30m (over the 1h tolerance), mallory's grant was never approved (exit 1)"
GRANTOPS_NOW=2026-11-28T17:30:00Z expect_exit 1 grantops --repo "$repo" audit --verify

printf '\ndemo finished: requested, judged by the base policy, approved, applied, refused without review, revoked on expiry, audited.\n'
