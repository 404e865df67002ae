#!/usr/bin/env node
// Example exec target for the `vpn` policy: speaks the grantops exec protocol
// (`grant|revoke` with one JSON object on stdin, `list` printing a JSON array).
// It keeps VPN profiles in a JSON file (VPN_STATE_FILE, default .grantops/vpn-state.json)
// so the example runs offline; a real script would call the VPN's admin API here.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

const stateFile = process.env.VPN_STATE_FILE || '.grantops/vpn-state.json';
const load = () => {
  try {
    return JSON.parse(readFileSync(stateFile, 'utf8'));
  } catch {
    return [];
  }
};
const save = (entries) => {
  mkdirSync(dirname(stateFile), { recursive: true });
  writeFileSync(`${stateFile}.tmp`, JSON.stringify(entries, null, 2));
  renameSync(`${stateFile}.tmp`, stateFile); // atomic: a killed run never leaves half a file
};
const readRequest = () => {
  const req = JSON.parse(readFileSync(0, 'utf8'));
  if (typeof req.user !== 'string' || typeof req.role !== 'string')
    throw new Error('user and role are required');
  return req;
};

const verb = process.argv[2];
try {
  if (verb === 'list') {
    process.stdout.write(`${JSON.stringify(load().map(({ user, role }) => ({ user, role })))}\n`);
  } else if (verb === 'grant') {
    const req = readRequest();
    const entries = load().filter((e) => !(e.user === req.user && e.role === req.role));
    entries.push({ user: req.user, role: req.role, expiresAt: req.expiresAt });
    save(entries);
  } else if (verb === 'revoke') {
    const req = readRequest();
    save(load().filter((e) => !(e.user === req.user && e.role === req.role)));
  } else {
    process.stderr.write('usage: vpn-access.mjs grant|revoke|list\n');
    process.exit(2);
  }
} catch (err) {
  process.stderr.write(`vpn-access: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
