#!/usr/bin/env bash
# The quick start's main job: the grantops loop on this repo's own example access repo, offline, with
# the committed bundle (no install, no credentials, no network). Time is pinned so output is stable.
# The example's exec target (scripts/vpn-access.mjs) stands in for a real system: it keeps its
# "VPN profiles" in a JSON file in the scratch directory.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
grantops() { node "$root/dist/cli.js" "$@"; }
export GRANTOPS_NOW="${GRANTOPS_NOW:-2026-11-28T12:00:00Z}"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
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
trap 'rm -rf "$scratch"' EXIT
repo="$scratch/access"
export GRANTOPS_VPN_STATE="$scratch/vpn-state.json"
export GIT_AUTHOR_NAME=demo GIT_AUTHOR_EMAIL=demo@example.invalid GIT_COMMITTER_NAME=demo GIT_COMMITTER_EMAIL=demo@example.invalid
git init -q -b main "$repo"
cp -R "$root/grants" "$root/policies" "$root/schemas" "$root/scripts" "$repo/"
git -C "$repo" add -A && git -C "$repo" commit -qm "example access repo"
# Evidence for erin's VPN grant, as if the Action had verified its PR (#9, approved by bob) at merge.
record_approval() { # record_approval COMMIT GRANT_ID PR APPROVER
  local blob; blob="$(git -C "$repo" rev-parse "$1:grants/$2.yaml")"
  git -C "$repo" notes --ref=grantops add -f -m "{\"grantops\":1,\"grants\":{\"$2\":{\"pr\":$3,\"headSha\":\"$1\",\"approvers\":[\"$4\"],\"commit\":\"$1\",\"blob\":\"$blob\",\"verifiedAt\":\"$GRANTOPS_NOW\"}}}" "$1"
}
record_approval "$(git -C "$repo" rev-parse HEAD)" vpn/erin-ops 9 bob

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
git -C "$repo" checkout -q main
git -C "$repo" merge -q --no-ff -m "Merge pull request #12 from acme/request-access" request-access
# On GitHub the Action reads bob's review through the API at this point and records the evidence as
# a git note (refs/notes/grantops); offline, the demo records the same evidence by hand.
id="${path#grants/}"; id="${id%.yaml}"
record_approval "$(git -C "$repo" rev-parse HEAD)" "$id" 12 bob
git -C "$repo" log --notes=grantops -1 --format='%h %s%n%N' | head -2

step "apply --dry-run: the plan for the vpn target"
grantops --repo "$repo" apply --target vpn --dry-run

step "apply at 13:30: frank, and erin (whose grant started at 13:00), get VPN access"
GRANTOPS_NOW=2026-11-28T13:30:00Z grantops --repo "$repo" apply --target vpn
echo "vpn profiles now: $(tr -d ' \n' < "$GRANTOPS_VPN_STATE")"

step "time passes (--now 2026-11-28T17:30:00Z): status --observe shows access outliving its grant"
GRANTOPS_NOW=2026-11-28T17:30:00Z grantops --repo "$repo" status --observe 2>/dev/null | grep -E "GRANT|vpn/" || true

step "the scheduled reaper: revoke expired grants on their targets, then one cleanup commit"
GRANTOPS_NOW=2026-11-28T17:30:00Z grantops --repo "$repo" reap 2>&1 | grep -v -E "^(unreachable|refused):" || true
echo "vpn profiles now: $(tr -d ' \n' < "$GRANTOPS_VPN_STATE")"

step "the audit log: git history"
git -C "$repo" log --format='%h %an: %s' -4
echo
git -C "$repo" log -1 --format='%B'

step "a grant without approval evidence is refused, never applied (exit 1 expected)"
expect_exit 1 grantops --repo "$repo" apply --target prod-db --dry-run

printf '\ndemo finished: requested, judged by the base policy, approved, applied, and revoked on expiry.\n'
