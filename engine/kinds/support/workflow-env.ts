import { PrepareError } from '../prepare-error.ts';

/*
 * The environment variables a workflow document may name. Documents come from the editor role,
 * and the gateway's environment also holds its own secrets (admin tokens, database and Redis
 * passwords): a document may read only names an operator allowed, for one purpose each.
 * - SLUICE_WORKFLOW_ENV: upstream base URLs, for a proxy url that starts with ${NAME}. These are
 *   addresses, not secrets; the value may only be the URL's base, so it goes to the host it
 *   names and nowhere else.
 * - SLUICE_SECRET_ENV: shared secrets (jwt-verify's secretEnv), used inside the gateway as keys
 *   and never put in a URL, a message or a log line. A name allowed here is refused in a URL even
 *   when SLUICE_WORKFLOW_ENV's patterns also match it.
 * - SLUICE_SECRET_HOSTS: where a secret may be sent (introspect's clientSecretEnv goes to the
 *   authorization server). A secret is bound to its hosts by name; one without a binding is used
 *   inside the gateway only, so an editor cannot send, say, the HS256 key of jwt-verify to a host
 *   that echoes it back.
 * No refusal or problem message carries a value, only the variable's name.
 */

/** The default of SLUICE_WORKFLOW_ENV: upstream base URLs, and the demo upstream's. */
export const DEFAULT_WORKFLOW_ENV = 'SLUICE_UPSTREAM_*,SLUICE_DEMO_UPSTREAM';
/** The default of SLUICE_SECRET_ENV. */
export const DEFAULT_SECRET_ENV = 'SLUICE_SECRET_*';

const NAME = /^[A-Z_][A-Z0-9_]*\*?$/;

/**
 * Parses an allow-list: comma-separated names, or prefixes ending in `*`.
 * @example parseEnvAllowList('SLUICE_UPSTREAM_*, ORDERS_URL') // ['SLUICE_UPSTREAM_*', 'ORDERS_URL']
 */
export function parseEnvAllowList(text: string): string[] {
  const names = text.split(',').map((n) => n.trim()).filter((n) => n !== '');
  for (const name of names) if (!NAME.test(name)) throw new Error(`"${name}" is not a variable name (A-Z, 0-9, _) or a prefix ending in *`);
  return names;
}

/** A host as SLUICE_CALLOUT_HOSTS and SLUICE_SECRET_HOSTS name one: `host`, `host:port` or `*.domain`, in lower case. */
export const HOST_ENTRY = /^(\*\.)?[a-z0-9.-]+(:\d{1,5})?$/;

/**
 * Parses SLUICE_SECRET_HOSTS: `NAME=host,host;NAME=host`, each host `host`, `host:port` or `*.domain`.
 * @example parseSecretHosts('SLUICE_SECRET_AS=auth.example.com,*.idp.example') // { SLUICE_SECRET_AS: ['auth.example.com', '*.idp.example'] }
 */
export function parseSecretHosts(text: string): Record<string, string[]> {
  const bindings: Record<string, string[]> = {};
  for (const entry of text.split(';').map((e) => e.trim()).filter((e) => e !== '')) {
    const eq = entry.indexOf('=');
    const name = entry.slice(0, eq).trim();
    if (eq < 1 || !/^[A-Z_][A-Z0-9_]*$/.test(name)) throw new Error(`"${entry}" is not NAME=host,host (a variable name, then the hosts it may be sent to)`);
    const hosts = entry.slice(eq + 1).split(',').map((h) => h.trim()).filter((h) => h !== '');
    for (const host of hosts) if (!HOST_ENTRY.test(host)) throw new Error(`"${host}" (for ${name}) is not a host name in lower case, host:port or *.domain`);
    if (hosts.length === 0) throw new Error(`${name} is bound to no host`);
    bindings[name] = [...(bindings[name] ?? []), ...hosts];
  }
  return bindings;
}

function matcher(patterns: readonly string[]): (name: string) => boolean {
  const exact = new Set(patterns.filter((p) => !p.endsWith('*')));
  const prefixes = patterns.filter((p) => p.endsWith('*')).map((p) => p.slice(0, -1));
  return (name) => exact.has(name) || prefixes.some((p) => name.startsWith(p));
}

/** Which variables a workflow may read, and for what. */
export interface EnvAllowList {
  /** Patterns of SLUICE_WORKFLOW_ENV (upstream base URLs). */
  urls: readonly string[];
  /** Patterns of SLUICE_SECRET_ENV (shared secrets). */
  secrets: readonly string[];
  /** SLUICE_SECRET_HOSTS: the hosts each secret may be sent to (absent: none). */
  secretHosts?: Readonly<Record<string, readonly string[]>>;
}

export const DEFAULT_ENV_ALLOW_LIST: EnvAllowList = { urls: parseEnvAllowList(DEFAULT_WORKFLOW_ENV), secrets: parseEnvAllowList(DEFAULT_SECRET_ENV) };

/** What a runtime reads from the environment at publish time; each read names the config field a refusal is about. */
export interface WorkflowEnv {
  /** An upstream base URL. */
  url(name: string, field: string): string;
  /** A shared secret. */
  secret(name: string, field: string): string;
  /** The hosts a secret may be sent to (SLUICE_SECRET_HOSTS), checked before its value is read; empty: none. */
  secretHosts(name: string, field: string): readonly string[];
}

/**
 * The environment as workflow documents see it: only allow-listed names, each for its purpose.
 * @throws PrepareError naming the field and the variable (never its value)
 */
export function createWorkflowEnv(env: Readonly<Record<string, string | undefined>>, allowList: EnvAllowList = DEFAULT_ENV_ALLOW_LIST): WorkflowEnv {
  const urlAllowed = matcher(allowList.urls);
  const secretAllowed = matcher(allowList.secrets);
  const read = (name: string, field: string) => {
    const value = Object.hasOwn(env, name) ? env[name] : undefined;
    if (value === undefined || value === '') throw new PrepareError(field, `environment variable ${name} is not set`);
    return value;
  };
  const allowedSecret = (name: string, field: string) => {
    if (!secretAllowed(name)) throw new PrepareError(field, `environment variable ${name} is not allowed as a secret: a workflow reads only the secrets SLUICE_SECRET_ENV names (${allowList.secrets.join(', ') || 'none'})`);
  };
  return {
    url(name, field) {
      if (secretAllowed(name)) throw new PrepareError(field, `environment variable ${name} is a secret (SLUICE_SECRET_ENV): it is not allowed in a URL`);
      if (!urlAllowed(name)) throw new PrepareError(field, `environment variable ${name} is not allowed: a workflow reads only the variables SLUICE_WORKFLOW_ENV names (${allowList.urls.join(', ') || 'none'})`);
      return read(name, field);
    },
    secret(name, field) {
      allowedSecret(name, field);
      return read(name, field);
    },
    secretHosts(name, field) {
      allowedSecret(name, field);
      return Object.hasOwn(allowList.secretHosts ?? {}, name) ? allowList.secretHosts![name]! : [];
    },
  };
}
