import { createHmac, randomBytes } from 'node:crypto';
import type { ValidGraph, ValidationProblem } from '../../shared/compile/index.ts';
import type { ClientCertConfig, HmacVerifyConfig, IntrospectConfig } from '../../shared/nodes/index.ts';
import { normalCertificateMatch } from '../../shared/schema/partners.ts';
import type { SampleRequest } from '../../shared/schema/preview.ts';
import { canonicalString } from '../kinds/hmac-verify.ts';
import type { PartnerAccess, PartnerDirectory } from '../kinds/support/partner-directory.ts';
import type { PresentedCertificate } from '../kinds/types.ts';
import { mockUpstream } from './mock-upstream.ts';

/*
 * A sample request run as a registered partner's credential, other than an API key (see
 * api-key-reference.ts): a client certificate, an HMAC signature or an introspected token. Each
 * is made for one run from the partner's record, never from its secrets, so a saved request keeps
 * only the reference and an editor never obtains anything a partner's real credential produced.
 */

type Problem = { problem: ValidationProblem };
const problem = (message: string, field: string): Problem => ({ problem: { code: 'invalid_document', message, field } });

const nodesOf = (graph: ValidGraph, kind: string) => [...graph.nodes.values()].filter((node) => node.kind === kind);

/** The registered partner a reference names, or the problem naming its field. */
function partnerOf(partners: PartnerAccess | undefined, id: string, field: string): { directory: PartnerDirectory } | Problem {
  const directory = partners?.current;
  if (!directory?.partners.has(id)) return problem(`no registered partner "${id}"`, field);
  return { directory };
}

/** A fresh copy of the partner access around a changed directory: nothing stored changes, no last use is touched. */
const accessWith = (directory: PartnerDirectory): PartnerAccess => ({ current: directory, lastUsed: new Map() });

/**
 * The certificate a run presents as the partner: verified, and carrying only what identifies the
 * partner's registered record (its fingerprint, CN or subjectAltName entry), so the client-cert
 * nodes map it to that partner and to no other.
 */
export function presentCertificate(graph: ValidGraph, reference: NonNullable<SampleRequest['clientCert']>, partners: PartnerAccess | undefined): { certificate: PresentedCertificate } | Problem {
  const nodes = nodesOf(graph, 'client-cert');
  if (nodes.length === 0) return problem('this workflow has no client-cert node: a client certificate identifies no one here', 'request.clientCert');
  const found = partnerOf(partners, reference.partner, 'request.clientCert.partner');
  if ('problem' in found) return found;
  const registered = found.directory.partnerCertificates.get(reference.partner) ?? [];
  const accepted = new Set(nodes.flatMap((node) => (node.config as ClientCertConfig).match));
  let record: (typeof registered)[number] | undefined;
  if (reference.certificate !== undefined) {
    record = registered.find((c) => c.id === reference.certificate);
    if (record === undefined) return problem(`partner "${reference.partner}" has no certificate "${reference.certificate}" (unknown or removed)`, 'request.clientCert.certificate');
    if (!accepted.has(record.match)) return problem(`certificate "${record.id}" is registered by ${record.match}, and this workflow's client-cert nodes match by ${[...accepted].join(', ')} only`, 'request.clientCert.certificate');
  } else {
    if (registered.length === 0) return problem(`partner "${reference.partner}" has no client certificate: register one on the Partners page`, 'request.clientCert.partner');
    record = registered.find((c) => accepted.has(c.match));
    if (record === undefined) return problem(`no certificate of partner "${reference.partner}" is registered by what this workflow's client-cert nodes match (${[...accepted].join(', ')})`, 'request.clientCert.partner');
  }
  const { match, value } = normalCertificateMatch({ match: record.match, value: record.value });
  return {
    certificate: {
      verified: true,
      // a fingerprint no registered certificate has, unless the record is the fingerprint
      fingerprint: match === 'fingerprint' ? value : randomBytes(32).toString('hex'),
      subject: match === 'subject' ? value : undefined,
      sans: match === 'san' ? [value] : [],
    },
  };
}

/** The request's path with its query as the exchange will hold it (see createSyntheticExchange). */
export function sampleUrl(request: SampleRequest): { path: string; url: string } {
  const q = request.path.indexOf('?');
  const path = q < 0 ? request.path : request.path.slice(0, q);
  const search = new URLSearchParams(q < 0 ? '' : request.path.slice(q + 1));
  for (const [name, value] of Object.entries(request.query ?? {})) search.append(name, value);
  return { path, url: `${path}${search.size > 0 ? `?${search}` : ''}` };
}

/**
 * Signs the request as the partner for one run: a secret minted now under a fresh key id is added
 * to a copy of the partner directory, and the request is signed with it exactly as each
 * hmac-verify node reads it (its header, its digest, the canonical string, the time now). The
 * partner's own secrets are never read: a signature under one would let an editor forge requests.
 */
export function signAsPartner(graph: ValidGraph, reference: NonNullable<SampleRequest['hmac']>, partners: PartnerAccess | undefined, request: SampleRequest): { headers: Record<string, string>; partners: PartnerAccess } | Problem {
  const nodes = nodesOf(graph, 'hmac-verify');
  if (nodes.length === 0) return problem('this workflow has no hmac-verify node: a signature identifies no one here', 'request.hmac');
  const found = partnerOf(partners, reference.partner, 'request.hmac.partner');
  if ('problem' in found) return found;
  const { directory } = found;
  const now = Date.now();
  // whether the partner signs at all: only that it has a live secret is read, never the secret
  if (![...directory.hmacSecrets.values()].some((s) => s.partner === reference.partner && s.expiresAt > now))
    return problem(`partner "${reference.partner}" has no active HMAC secret: create one on the Partners page`, 'request.hmac.partner');
  let keyId: string;
  do keyId = `hk_${randomBytes(4).toString('hex')}`;
  while (directory.hmacSecrets.has(keyId));
  const secret = Buffer.from(randomBytes(32).toString('base64url'), 'utf8');
  const hmacSecrets = new Map(directory.hmacSecrets).set(keyId, { partner: reference.partner, secret, expiresAt: Infinity });
  const ts = String(Math.floor(now / 1000));
  const body = request.body === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(request.body));
  const canonical = canonicalString(request.method, sampleUrl(request).url, ts, body);
  const headers: Record<string, string> = {};
  for (const node of nodes) {
    const config = node.config as HmacVerifyConfig;
    const header = config.header.toLowerCase();
    if (header in headers) continue;
    const digest = config.algorithms.includes('sha256') ? 'sha256' : config.algorithms[0]!;
    headers[header] = `keyId=${keyId},ts=${ts},sig=${createHmac(digest, secret).update(canonical).digest('hex')}`;
  }
  return { headers, partners: accessWith({ ...directory, hmacSecrets }) };
}

/** What an introspected run changes: the token it sends, and where the introspect nodes now ask. */
export interface IntrospectedRun {
  headers: Record<string, string>;
  /** Hosts (host:port) the stand-in server listens on: allowed as callouts and by the egress policy for this run. */
  hosts: string[];
  /** Environment values for this run: the client secret names of the introspect nodes, set to a throwaway (the real secret is never read). */
  env: Record<string, string>;
  /** Those throwaway secrets bound to the stand-in's host (SLUICE_SECRET_HOSTS for this run): the real bindings stay as they are. */
  secretHosts: Record<string, string[]>;
  release(): void;
}

/**
 * Points every introspect node of this run's graph at a loopback stand-in for the authorization
 * server, answering `active: true` with the partner's client id (under the node's partnerClaim),
 * the scopes and the subject asked for; the run sends a random opaque token. The real server is
 * never called and the gateway client's real secret is never read.
 */
export async function introspectAsPartner(graph: ValidGraph, reference: NonNullable<SampleRequest['introspected']>, partners: PartnerAccess | undefined): Promise<IntrospectedRun | Problem> {
  const nodes = nodesOf(graph, 'introspect');
  if (nodes.length === 0) return problem('this workflow has no introspect node: an introspected token identifies no one here', 'request.introspected');
  const found = partnerOf(partners, reference.partner, 'request.introspected.partner');
  if ('problem' in found) return found;
  // the partner's registered client id, as the authorization server would name it; a partner without one is named by its id (the node maps either)
  const clientId = [...found.directory.clients].find(([, partner]) => partner === reference.partner)?.[0] ?? reference.partner;
  const token = `preview_${randomBytes(24).toString('base64url')}`;
  const iat = Math.floor(Date.now() / 1000);
  const headers: Record<string, string> = {};
  const hosts = new Set<string>();
  const env: Record<string, string> = {};
  const secretHosts: Record<string, string[]> = {};
  const releases: Array<() => void> = [];
  for (const node of nodes) {
    const config = node.config as IntrospectConfig;
    const answer = {
      token_type: 'Bearer',
      scope: (reference.scopes ?? []).join(' '),
      sub: reference.sub ?? `preview-${reference.partner}`,
      iat,
      exp: iat + 300,
      ...(config.audience === undefined ? {} : { aud: config.audience }),
      [config.partnerClaim]: clientId,
      active: true,
    };
    const mock = await mockUpstream({ status: 200, body: answer });
    releases.push(mock.release);
    hosts.add(new URL(mock.url).host);
    node.config = { ...config, endpoint: mock.url, issuer: undefined };
    env[config.clientSecretEnv] = randomBytes(16).toString('hex');
    secretHosts[config.clientSecretEnv] = [...(secretHosts[config.clientSecretEnv] ?? []), new URL(mock.url).host];
    headers[config.header.toLowerCase()] = `Bearer ${token}`;
  }
  return { headers, hosts: [...hosts], env, secretHosts, release: () => releases.forEach((release) => release()) };
}

/**
 * The partner credential a request runs as, if any, and the field that names it: such a run
 * against the real upstream is for the roles that manage partners.
 */
export function partnerCredentialOf(request: SampleRequest): { field: string; what: string } | undefined {
  if (request.apiKey?.key !== undefined) return { field: 'request.apiKey.key', what: `partner key ${request.apiKey.key.slice(0, 64)}` };
  if (request.clientCert) return { field: 'request.clientCert.partner', what: `partner ${request.clientCert.partner.slice(0, 64)}'s client certificate` };
  if (request.hmac) return { field: 'request.hmac.partner', what: `partner ${request.hmac.partner.slice(0, 64)}'s HMAC signature` };
  if (request.introspected) return { field: 'request.introspected.partner', what: `partner ${request.introspected.partner.slice(0, 64)}'s introspected token` };
  return undefined;
}
