import type { Logger } from 'pino';
import { sealEntry, verifyAuditChain, type AuditEntry } from './audit.ts';
import { migrateStore, readState as storedState } from './migrations.ts';
import { createRedisClient, redisKeys, whenReady, type RedisClient, type RedisTarget } from './redis.ts';
import { freezeState, StoreUnavailableError, type Store, type StoreState, type Transition } from './types.ts';

/**
 * Commits one change atomically: documents, the new state, the audit entry and the revision,
 * only if the revision is still the one the change was decided on (else nothing is written and
 * the current revision is returned negated).
 * KEYS: revision, state, audit, documents…  ARGV: expected revision, state, entry, documents…
 */
const COMMIT = `
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current ~= tonumber(ARGV[1]) then return -current - 1 end
for i = 4, #KEYS do redis.call('SET', KEYS[i], ARGV[i]) end
redis.call('SET', KEYS[2], ARGV[2])
redis.call('RPUSH', KEYS[3], ARGV[3])
redis.call('SET', KEYS[1], current + 1)
return current + 1
`;

/** How often a replica compares the store's revision with what it has seen (pub/sub only makes it sooner). */
const RECONCILE_MS = 1_000;
/** Attempts of a transaction that keeps losing the race to other replicas' commits. */
const MAX_ATTEMPTS = 50;
/** What a document hash looks like (in an announcement, from another replica). */
const HASH = /^[0-9a-f]{64}$/;
/** Documents are immutable (named by their hash): this many texts are kept in memory. */
const DOCUMENT_CACHE = 256;

export interface RedisStore extends Store {
  readonly kind: 'redis';
  readonly target: RedisTarget;
  /** The connection used for the store (the replica registry shares it). */
  readonly client: RedisClient;
  /** The highest revision this process knows the store has reached (its own commits, announcements, reconciles). */
  readonly knownRevision: number;
}

export interface RedisStoreOptions {
  target: RedisTarget;
  logger?: Logger;
  /** Between a commit and its announcement (tests: a Redis restart right there). */
  beforeAnnounce?: (revision: number) => Promise<void>;
  reconcileMs?: number;
}

/**
 * The shared store: workflows, versions, drafts, the catalog and the audit log in Redis, for
 * several replicas. A change is decided on the state as read and committed by one Lua script
 * only if no other change landed meanwhile (else decided again on the new state), so the audit
 * chain never forks. Every commit bumps the revision and is announced on pub/sub; each process
 * also compares the revision every second and whenever a connection comes back, so a lost
 * announcement delays a reload, never loses it.
 */
export async function openRedisStore(options: RedisStoreOptions): Promise<RedisStore> {
  const { target, logger } = options;
  const keys = redisKeys(target.prefix);
  const client = createRedisClient(target, { name: 'sluice-store', offlineQueue: false, commandTimeoutMs: 5_000 });
  const subscriber = createRedisClient(target, { name: 'sluice-changes', offlineQueue: true, resubscribe: false });
  const reportError = (which: string) => {
    let lastReport = 0;
    return (error: Error) => {
      // A down Redis reports on every reconnect attempt: once every few seconds is enough.
      if (Date.now() - lastReport < 5_000) return;
      lastReport = Date.now();
      logger?.warn({ err: { message: error.message } }, `redis ${which} connection: ${error.message}`);
    };
  };
  client.on('error', reportError('store'));
  subscriber.on('error', reportError('announcements'));
  try {
    await whenReady(client, target);
  } catch (error) {
    client.disconnect();
    subscriber.disconnect();
    throw error;
  }
  client.defineCommand('sluiceCommit', { lua: COMMIT });
  const commit = (client as unknown as { sluiceCommit(...args: Array<string | number>): Promise<number> }).sluiceCommit.bind(client);

  /** A failure of Redis itself (not of a transaction body) as the error the admin API answers 503 for. */
  const unavailable = (error: unknown): never => {
    const message = (error as Error).message ?? String(error);
    if (client.status !== 'ready' || /Connection is closed|Stream isn't writeable|timed out|ECONNREFUSED|ECONNRESET|ETIMEDOUT|LOADING|CLUSTERDOWN/i.test(message))
      throw new StoreUnavailableError(`the Redis store cannot be reached: ${message}`, { cause: error });
    throw error;
  };

  const documents = new Map<string, string>();
  /** Documents being read: a second reader (the registry after a prefetch) waits for the same read. */
  const reading = new Map<string, Promise<string>>();

  /** A document's text: from the cache, or read once however many ask at once. */
  function documentText(hash: string): Promise<string> {
    const cached = documents.get(hash);
    if (cached !== undefined) return Promise.resolve(cached);
    let pending = reading.get(hash);
    if (pending === undefined) {
      pending = client
        .get(keys.document(hash))
        .catch(unavailable)
        .then((stored) => {
          if (stored === null) throw new Error(`no document ${hash} in the store`);
          if (documents.size >= DOCUMENT_CACHE) documents.delete(documents.keys().next().value!);
          documents.set(hash, stored);
          return stored;
        })
        .finally(() => reading.delete(hash));
      reading.set(hash, pending);
    }
    return pending;
  }

  /** Starts reading a document a change announced, before anyone asks for it; a failure is the later reader's to see. */
  function prefetch(hash: string): void {
    if (!documents.has(hash)) documentText(hash).catch(() => undefined);
  }

  const listeners = new Set<(revision: number) => void>();
  let known = Number((await client.get(keys.revision)) ?? 0);
  const notify = (revision: number) => {
    for (const listener of listeners) {
      try {
        listener(revision);
      } catch {
        // a listener's failure is its own
      }
    }
  };
  /** A revision seen somewhere (announcement, reconcile): listeners hear of each newer one. */
  const seen = (revision: number) => {
    if (revision > known) {
      known = revision;
      notify(revision);
    } else if (revision < known) {
      logger?.error({ revision, known }, 'the Redis store went back to an earlier revision: Redis lost data (persistence off?); serving what was applied');
      known = revision;
    }
  };
  const reconcile = async () => {
    try {
      seen(Number((await client.get(keys.revision)) ?? 0));
    } catch {
      // down: the next reconcile, or the reconnect, tries again
    }
  };
  subscriber.on('message', (channel: string, message: string) => {
    if (channel !== keys.changes) return;
    // "<revision>" or "<revision> <document hash>": the document the change made active, fetched
    // now so that it comes back with the state the listeners read next (one round trip, not two)
    const [revision, hash] = message.split(' ');
    if (hash !== undefined && HASH.test(hash)) prefetch(hash);
    seen(Number(revision));
  });
  // After a reconnect the announcements sent meanwhile are lost: compare at once.
  client.on('ready', () => void reconcile());
  let subscribed = false;
  subscriber.on('ready', () => {
    // after a reconnect: subscribe again (a failure is the next reconnect's to retry), then compare
    if (subscribed) subscriber.subscribe(keys.changes).catch(() => undefined);
    void reconcile();
  });
  await subscriber.subscribe(keys.changes);
  subscribed = true;
  const timer = setInterval(() => void reconcile(), options.reconcileMs ?? RECONCILE_MS);
  timer.unref();


  async function readState(): Promise<StoreState> {
    const text = await client.get(keys.state).catch(unavailable);
    return freezeState(storedState(text === null ? undefined : JSON.parse(text)));
  }

  let queue: Promise<unknown> = Promise.resolve();
  async function attempt<T>(body: (state: StoreState) => Transition<T> | Promise<Transition<T>>) {
    for (let attempt = 1; ; attempt++) {
      const state = await readState();
      const transition = await body(state);
      const entry = sealEntry(transition.entry, state.revision === 0 ? undefined : { seq: state.revision, hash: state.head ?? '' });
      const next: StoreState = { ...(transition.state ?? state), revision: entry.seq, head: entry.hash };
      const docs = transition.documents ?? [];
      const result = await commit(
        3 + docs.length,
        keys.revision,
        keys.state,
        keys.audit,
        ...docs.map((d) => keys.document(d.hash)),
        state.revision,
        JSON.stringify(next),
        JSON.stringify(entry),
        ...docs.map((d) => d.text),
      ).catch(unavailable);
      if (result < 0) {
        if (attempt >= MAX_ATTEMPTS) throw new Error(`the change lost ${MAX_ATTEMPTS} races to other replicas' changes; try again`);
        // Another replica committed first: decide again on its state, after a random pause that
        // grows with each lost race, so replicas changing the store at once take turns.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(2 ** attempt, 100)));
        continue;
      }
      // Announcements of later commits may have arrived first (another connection): listeners hear each revision once, rising.
      if (result > known) {
        known = result;
        notify(result);
      }
      void announce(result, entry.documentHash);
      return { revision: result, entry, result: transition.result };
    }
  }

  async function announce(revision: number, documentHash: string | undefined) {
    try {
      await options.beforeAnnounce?.(revision);
      await client.publish(keys.changes, documentHash === undefined ? String(revision) : `${revision} ${documentHash}`);
    } catch (error) {
      // the others find the change when they next compare revisions
      logger?.warn({ revision, err: { message: (error as Error).message } }, 'store change committed but not announced; replicas pick it up when they reconcile');
    }
  }

  const store: RedisStore = {
    kind: 'redis',
    target,
    client,
    get knownRevision() {
      return known;
    },
    state: readState,
    async document(hash) {
      return JSON.parse(await store.documentText(hash));
    },
    async documentText(hash) {
      if (!HASH.test(hash)) throw new Error(`not a document hash: ${hash}`);
      return documentText(hash);
    },
    transact(body) {
      // Changes of one process go one at a time (as in the file store); other replicas race through the revision check.
      const run = queue.then(() => attempt(body));
      queue = run.catch(() => undefined);
      return run;
    },
    async audit(opts = {}) {
      const after = opts.after ?? 0;
      const stop = opts.limit === undefined ? -1 : after + opts.limit - 1;
      const lines = await client.lrange(keys.audit, after, stop).catch(unavailable);
      return lines.map((line) => JSON.parse(line) as AuditEntry);
    },
    async verifyAudit() {
      // State and log read in one transaction: the anchor and the log are of the same moment.
      const replies = await client.multi().get(keys.state).lrange(keys.audit, 0, -1).exec().catch(unavailable);
      if (!replies) throw new Error('could not read the audit log');
      const [[stateError, stateText], [logError, lines]] = replies as [[Error | null, string | null], [Error | null, string[]]];
      if (stateError || logError) throw stateError ?? logError;
      const state = storedState(stateText === null ? undefined : JSON.parse(stateText));
      const entries = lines.map((line) => {
        try {
          return JSON.parse(line) as unknown;
        } catch {
          return line;
        }
      });
      return verifyAuditChain(entries, { revision: state.revision, head: state.head });
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      clearInterval(timer);
      await queue;
      listeners.clear();
      subscriber.disconnect();
      await client.quit().catch(() => client.disconnect());
    },
  };
  await migrateStore(store, `${target.url.replace(/\/\/[^@/]*@/, '//')} (prefix ${target.prefix})`).catch(async (error: unknown) => {
    await store.close();
    throw error;
  });
  return store;
}
