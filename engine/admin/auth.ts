import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROLES, type Identity, type Role } from '../../shared/admin/index.ts';
import type { AttemptLimit } from './attempt-limit.ts';
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
 * or how much matched. Wrong tokens are counted by client address in `failures` (the gateway's
 * rate-limit store: in Redis, shared by every replica, when REDIS_URL is set), so guessing is cut
 * off after `SLUICE_ADMIN_MAX_FAILURES` a minute however many replicas a guesser spreads over.
 */
export function createAuthenticator(tokens: ReadonlyArray<Identity & { token: string }>, failures: AttemptLimit) {
  const entries: TokenEntry[] = tokens.map((t) => ({ name: t.name, role: t.role, digest: digest(t.token) }));
  return {
    /**
     * The identity of a bearer token. `client` (the caller's address) is refused while it has sent
     * too many wrong tokens, whatever it sends, so that a token cannot be guessed.
     */
    async authenticate(authorization: string | undefined, client = 'unknown'): Promise<Identity> {
      const retryAfter = await failures.refusedFor(client);
      if (retryAfter !== undefined) throw new AdminError('too_many_attempts', `too many wrong admin tokens from this address; retry after ${retryAfter} seconds`, { extra: { retryAfter } });
      const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
      if (!match) throw new AdminError('unauthorized', 'send an admin token as "Authorization: Bearer <token>"');
      const presented = digest(match[1]!);
      let found: TokenEntry | undefined;
      for (const entry of entries) if (timingSafeEqual(entry.digest, presented) && found === undefined) found = entry;
      if (!found) {
        await failures.count(client);
        throw new AdminError('unauthorized', 'the admin token is not valid');
      }
      return { name: found.name, role: found.role };
    },
  };
}

/** Wrong admin tokens are counted per this window (SLUICE_ADMIN_MAX_FAILURES is per minute). */
export const ADMIN_FAILURE_WINDOW_MS = 60_000;
