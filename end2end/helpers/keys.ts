// A server that swaps someone's keys: the directory's answer for a name is
// rewritten (page.route) with other keys, validly self-signed here with Node's
// Ed25519, so only a key pin can tell (docs/PROTOCOL.md 15.10).
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import type { Page, Route } from '@playwright/test';

const ROLE_CODES: Record<string, number> = { patient: 1, doctor: 2, admin: 3, auditor: 4 };

/** `bind(label, fields)` of docs/PROTOCOL.md section 1: u32be length before each. */
function bind(label: string, fields: Buffer[]): Buffer {
  const parts: Buffer[] = [];
  for (const f of [Buffer.from(label, 'utf8'), ...fields]) {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(f.length);
    parts.push(len, f);
  }
  return Buffer.concat(parts);
}

type KeyEntry = {
  user_id: string;
  username: string;
  role: string;
  identity_key: string;
  encryption_key: string;
  created_at: number;
};

/** The same account and name under new keys, self-signed with the new identity key. */
export function withOtherKeys(value: KeyEntry) {
  const identity = generateKeyPairSync('ed25519');
  const encryption = generateKeyPairSync('x25519');
  const raw = (k: KeyObject) => Buffer.from(k.export({ format: 'jwk' }).x!, 'base64url');
  const entry: KeyEntry = {
    ...value,
    identity_key: raw(identity.publicKey).toString('base64url'),
    encryption_key: raw(encryption.publicKey).toString('base64url'),
  };
  const createdAt = Buffer.alloc(8);
  createdAt.writeBigInt64BE(BigInt(entry.created_at));
  const bytes = bind('medvault/v1/sign/key-entry', [
    Buffer.from(entry.user_id, 'base64url'),
    Buffer.from(entry.username, 'utf8'),
    Buffer.from([ROLE_CODES[entry.role]]),
    Buffer.from(entry.identity_key, 'base64url'),
    Buffer.from(entry.encryption_key, 'base64url'),
    createdAt,
  ]);
  return { value: entry, signature: sign(null, bytes, identity.privateKey).toString('base64url') };
}

/**
 * From now on the directory answers for `username` with other keys (the same
 * keys on every look-up, as a consistent attacker would); other names pass.
 */
export async function swapKeysOf(page: Page, username: string) {
  let swapped: unknown = null;
  await page.route('**/api/directory/lookup', async (route: Route) => {
    const asked = JSON.parse(route.request().postData() ?? '{}').username;
    const response = await route.fetch();
    if (asked !== username || !response.ok()) return route.fulfill({ response });
    const served = await response.json();
    swapped ??= withOtherKeys(served.entry.value);
    await route.fulfill({
      response,
      json: { ...served, entry: swapped, certificate: null, certifier: null },
    });
  });
}
