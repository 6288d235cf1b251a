import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROLES, type Identity, type Role } from '../../shared/admin/index.ts';
import { AdminError } from './errors.ts';

interface TokenEntry extends Identity {
  digest: Buffer;
}

const digest = (token: string) => createHash('sha256').update(token).digest();

/** Parses SLUICE_ADMIN_TOKENS: comma-separated `name:role:token`. */
export function parseAdminTokens(text: string): Array<Identity & { token: string }> {
  const tokens = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((item) => {
      const [name, role, ...rest] = item.split(':');
      const token = rest.join(':');
      if (!name || !role || !token) throw new Error(`SLUICE_ADMIN_TOKENS: "${name ?? ''}:…" must be name:role:token`);
      if (!(ROLES as readonly string[]).includes(role)) throw new Error(`SLUICE_ADMIN_TOKENS: role "${role}" of ${name} is not one of ${ROLES.join(', ')}`);
      if (token.length < 16) throw new Error(`SLUICE_ADMIN_TOKENS: the token of ${name} is shorter than 16 characters`);
      return { name, role: role as Role, token };
    });
  // One token, one identity: a token listed twice would act as whichever entry comes first.
  const seen = new Map<string, string>();
  for (const { name, token } of tokens) {
    const first = seen.get(token);
    if (first !== undefined) throw new Error(`SLUICE_ADMIN_TOKENS: ${first} and ${name} have the same token`);
    seen.set(token, name);
  }
  return tokens;
}

/** The admin token file of a data directory with no configured tokens. */
export const ADMIN_TOKEN_FILE = 'admin-token';

/**
 * The admin tokens in force: SLUICE_ADMIN_TOKENS when set, else one admin token created on
 * first start in the data directory (mode 0600). Tokens are kept only as digests.
 */
export function loadAdminTokens(configured: string | undefined, dataDir: string): { tokens: Array<Identity & { token: string }>; createdFile: string | undefined } {
  if (configured && configured.trim() !== '') return { tokens: parseAdminTokens(configured), createdFile: undefined };
  const file = join(dataDir, ADMIN_TOKEN_FILE);
  let createdFile: string | undefined;
  if (!existsSync(file)) {
    writeFileSync(file, `${randomBytes(24).toString('base64url')}\n`, { mode: 0o600 });
    createdFile = file;
  }
  return { tokens: [{ name: 'admin', role: 'admin', token: readFileSync(file, 'utf8').trim() }], createdFile };
}

/**
 * Checks bearer tokens in constant time: the presented token's digest is compared with every
 * configured digest, without stopping at the first match, so timing says nothing about which
 * or how much matched.
 */
export function createAuthenticator(tokens: ReadonlyArray<Identity & { token: string }>, limits: { maxFailures?: number; windowMs?: number } = {}) {
  const entries: TokenEntry[] = tokens.map((t) => ({ name: t.name, role: t.role, digest: digest(t.token) }));
  const maxFailures = limits.maxFailures ?? MAX_FAILURES;
  const windowMs = limits.windowMs ?? FAILURE_WINDOW_MS;
  /** Wrong tokens by client address: guessing is cut off after maxFailures per window. */
  const failures = new Map<string, { count: number; since: number }>();
  return {
    /**
     * The identity of a bearer token. `client` (the caller's address) is refused for the rest of
     * the window after too many wrong tokens, whatever it sends, so a token cannot be guessed.
     */
    authenticate(authorization: string | undefined, client = 'unknown'): Identity {
      const now = Date.now();
      const failed = failures.get(client);
      if (failed && now - failed.since >= windowMs) failures.delete(client);
      else if (failed && failed.count >= maxFailures) {
        const retryAfter = Math.max(1, Math.ceil((failed.since + windowMs - now) / 1000));
        throw new AdminError('too_many_attempts', `too many wrong admin tokens from this address; retry after ${retryAfter} seconds`, { extra: { retryAfter } });
      }
      const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
      if (!match) throw new AdminError('unauthorized', 'send an admin token as "Authorization: Bearer <token>"');
      const presented = digest(match[1]!);
      let found: TokenEntry | undefined;
      for (const entry of entries) if (timingSafeEqual(entry.digest, presented) && found === undefined) found = entry;
      if (!found) {
        if (failures.size >= MAX_TRACKED_CLIENTS) failures.clear();
        const entry = failures.get(client) ?? { count: 0, since: now };
        entry.count++;
        failures.set(client, entry);
        throw new AdminError('unauthorized', 'the admin token is not valid');
      }
      return { name: found.name, role: found.role };
    },
  };
}

/** Wrong admin tokens one address may send per window before it is refused with 429. */
const MAX_FAILURES = 10;
const FAILURE_WINDOW_MS = 60_000;
/** Addresses tracked at most (a flood of addresses resets the table rather than growing it). */
const MAX_TRACKED_CLIENTS = 10_000;
