import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { buildConnector } from 'undici';

/*
 * Where a workflow may make the gateway connect to. Workflow documents come from the editor role,
 * so a proxy URL or a JWKS URL is untrusted: without a policy, an editor reads a cloud metadata
 * service or any internal host through simulate or traffic (SSRF). One policy decides every
 * outbound call a workflow makes: at publish on the URL's literal address or its current DNS
 * answer (a clear early refusal), and again on the address each connection is actually made to
 * (a name that answered a public address at publish and an internal one later, DNS rebinding,
 * is refused there).
 */

type Address = ipaddr.IPv4 | ipaddr.IPv6;
type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;
/** The shape of dns.lookup as net.connect calls it. */
type LookupFunction = (hostname: string, options: LookupOptions, callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;

/** One entry of SLUICE_EGRESS_ALLOW. */
type AllowEntry =
  | { text: string; kind: 'range'; range: [Address, number]; exact: boolean; port: number | undefined }
  | { text: string; kind: 'host'; host: string; wildcard: boolean; port: number | undefined };

/**
 * Cloud metadata services. They are link-local, private or even public addresses (Azure's
 * wire server), and hold credentials: only an entry naming the exact address opens one, never a
 * range that happens to contain it.
 */
const METADATA = new Set(['169.254.169.254', '169.254.170.2', '169.254.170.23', 'fd00:ec2::254', 'fd00:ec2::23', '100.100.100.200', '192.0.0.192', '168.63.129.16'].map((a) => ipaddr.parse(a).toNormalizedString()));

/** How a refusal names the range an address is in. */
const RANGE_WORDS: Record<string, string> = {
  metadata: 'a cloud metadata address',
  loopback: 'a loopback address (127.0.0.0/8, ::1)',
  linkLocal: 'a link-local address (169.254.0.0/16, fe80::/10)',
  private: 'a private address (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16)',
  uniqueLocal: 'a unique local address (fc00::/7)',
  carrierGradeNat: 'a carrier-grade NAT address (100.64.0.0/10)',
  unspecified: 'an unspecified address (0.0.0.0/8, ::)',
  broadcast: 'the broadcast address',
  multicast: 'a multicast address',
  ipv4Compatible: 'an IPv4-compatible IPv6 address (::/96)',
};
const rangeWords = (range: string) => RANGE_WORDS[range] ?? `a special-purpose address (${range})`;

/**
 * The special range an address is in, or undefined for a public (global unicast) address.
 * IPv4-mapped IPv6 addresses are judged as the IPv4 address they carry (ipaddr.process).
 */
function specialRange(address: Address): string | undefined {
  if (METADATA.has(address.toNormalizedString())) return 'metadata';
  if (address.kind() === 'ipv6') {
    const parts = (address as ipaddr.IPv6).parts;
    // ::a.b.c.d, deprecated, but some stacks still route it to the IPv4 address
    if (parts.slice(0, 6).every((p) => p === 0) && !(parts[6] === 0 && parts[7]! <= 1)) return 'ipv4Compatible';
  }
  const range = address.range();
  return range === 'unicast' ? undefined : range;
}

const HOST_NAME = /^(\*\.)?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

function parsePort(text: string, entry: string): number {
  const port = /^[0-9]{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port >= 1 && port <= 65535)) throw new Error(`"${entry}": the port must be 1-65535`);
  return port;
}

function parseRange(text: string, entry: string): [Address, number] {
  try {
    if (text.includes('/')) return ipaddr.parseCIDR(text);
    if (!text.includes(':') && !ipaddr.IPv4.isValidFourPartDecimal(text)) throw new Error('not four decimal parts');
    const address = ipaddr.parse(text);
    return [address, address.kind() === 'ipv4' ? 32 : 128];
  } catch {
    throw new Error(`"${entry}" is not an address or a CIDR range`);
  }
}

/**
 * Parses SLUICE_EGRESS_ALLOW: comma-separated entries, each an address, a CIDR range or a host
 * name, optionally with `:port`. IPv6 takes brackets when a port follows.
 * @example parseEgressAllow('10.0.0.0/8, 127.0.0.1:8080, [fd00::/8]:443, api.example.com:443, *.partner.example')
 */
export function parseEgressAllow(text: string): AllowEntry[] {
  const entries: AllowEntry[] = [];
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    let host = entry;
    let port: number | undefined;
    if (entry.startsWith('[')) {
      const close = entry.indexOf(']');
      const rest = close < 0 ? '' : entry.slice(close + 1);
      if (close < 0 || (rest !== '' && !rest.startsWith(':'))) throw new Error(`"${entry}": write IPv6 as [address] or [address]:port`);
      host = entry.slice(1, close);
      if (rest !== '') port = parsePort(rest.slice(1), entry);
      entries.push({ text: entry, kind: 'range', range: parseRange(host, entry), exact: false, port });
      continue;
    }
    const colons = entry.split(':').length - 1;
    if (colons === 1) {
      host = entry.slice(0, entry.indexOf(':'));
      port = parsePort(entry.slice(entry.indexOf(':') + 1), entry);
    }
    if (colons > 1 || /^[0-9./]+$/.test(host)) {
      entries.push({ text: entry, kind: 'range', range: parseRange(colons > 1 ? entry : host, entry), exact: false, port });
      continue;
    }
    const name = host.toLowerCase().replace(/\.$/, '');
    if (!HOST_NAME.test(name)) throw new Error(`"${entry}" is not an address, a CIDR range or a host name`);
    entries.push({ text: entry, kind: 'host', host: name.replace(/^\*\./, ''), wildcard: name.startsWith('*.'), port });
  }
  for (const entry of entries) if (entry.kind === 'range') entry.exact = entry.range[1] === (entry.range[0].kind() === 'ipv4' ? 32 : 128);
  return entries;
}

/** A connection the egress policy refused; the proxy ends by its error port, a key set fetch fails. */
class EgressDenied extends Error {
  readonly code = 'EGRESS_DENIED';
  constructor(message: string) {
    super(message);
    this.name = 'EgressDenied';
  }
}

interface EgressVerdict {
  allowed: boolean;
  /** The rule that decided, in words. */
  rule: string;
}

/** What the policy checks at publish: a URL and how a refusal names it. */
interface EgressTarget {
  url: URL;
  /** How the refusal names the target: the URL as written, or the ${NAME} its host comes from. */
  label: string;
  /** The host was written in the document (so the refusal may name it and its address); false when it came from a variable. */
  literal: boolean;
}

export interface EgressPolicy {
  /** Tells policies apart, for resources shared per policy (connection pools, key sets). */
  readonly key: string;
  /** The entries and the public default, for the startup log. */
  readonly summary: { allow: string[]; publicAddresses: boolean };
  /** Decides one address: `host` is the name it was resolved from, when it was one. */
  decide(address: string, port: number, host?: string): EgressVerdict;
  /** The publish-time check: undefined when allowed, else the refusal (never a resolved secret). */
  check(target: EgressTarget): Promise<string | undefined>;
  /** An undici connector that resolves, checks every address and connects only to allowed ones. */
  connector(): ReturnType<typeof buildConnector>;
  /** The same policy with one more entry (the demo upstream, a simulation's mock). */
  allowing(entry: string): EgressPolicy;
}

export interface EgressPolicyOptions {
  /** SLUICE_EGRESS_ALLOW. */
  allow?: string;
  /** SLUICE_EGRESS_PUBLIC: public addresses need no entry. Default true. */
  publicAddresses?: boolean;
  /** How names resolve (dns.lookup); the tests' attacker DNS. */
  lookup?: LookupFunction;
  /** Longest a publish-time resolution may take; a name that does not resolve in time is decided at connect time. */
  publishLookupMs?: number;
  /** Told of every connection refused at connect time (the server logs it). */
  onDenied?: (denial: { host: string; port: number; address: string; rule: string }) => void;
}

/** Custom lookups (tests) tell their policies apart; dns.lookup is one. */
const lookupIds = new WeakMap<LookupFunction, number>();
let lookupCount = 0;

const defaultPort = (url: URL) => (url.port !== '' ? Number(url.port) : url.protocol === 'https:' ? 443 : 80);
function lookupIdOf(lookup: LookupFunction): number {
  let id = lookupIds.get(lookup);
  if (id === undefined) lookupIds.set(lookup, (id = ++lookupCount));
  return id;
}

/** host:port as a URL writes it (IPv6 in brackets). */
const hostPort = (host: string, port: number) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);
const bare = (hostname: string) => (hostname.startsWith('[') ? hostname.slice(1, -1) : hostname);

/** Verdicts a policy remembers (cleared when full). */
const DECIDED = 1_024;

/**
 * The egress policy: addresses in an entry of SLUICE_EGRESS_ALLOW are allowed (on its port when
 * it names one); other loopback, private, link-local, CGNAT, unique-local, metadata and other
 * special-purpose addresses are refused; public addresses are allowed unless `publicAddresses`
 * is false, when only host-name entries open them. A host-name entry never opens a special
 * address: what a name resolves to can change.
 * @example createEgressPolicy({ allow: '10.0.0.0/8' }).decide('10.1.2.3', 80).allowed === true
 */
export function createEgressPolicy(options: EgressPolicyOptions = {}): EgressPolicy {
  const allow = options.allow ?? '';
  const entries = parseEgressAllow(allow);
  const publicAddresses = options.publicAddresses ?? true;
  const lookup: LookupFunction = options.lookup ?? (dnsLookup as unknown as LookupFunction);
  const publishLookupMs = options.publishLookupMs ?? 2_000;
  const ranges = entries.filter((e) => e.kind === 'range');
  const hosts = entries.filter((e) => e.kind === 'host');

  /** Verdicts by address, port and host: the policy never changes, and a start checks one upstream of 10,000 workflows 10,000 times. */
  const decided = new Map<string, EgressVerdict>();
  function decide(text: string, port: number, host?: string): EgressVerdict {
    const key = `${text} ${port} ${host ?? ''}`;
    let verdict = decided.get(key);
    if (verdict === undefined) {
      if (decided.size >= DECIDED) decided.clear();
      verdict = Object.freeze(decideAfresh(text, port, host));
      decided.set(key, verdict);
    }
    return verdict;
  }

  function decideAfresh(text: string, port: number, host: string | undefined): EgressVerdict {
    let address: Address;
    try {
      address = ipaddr.process(bare(text));
    } catch {
      return { allowed: false, rule: 'not an IP address' };
    }
    const special = specialRange(address);
    for (const entry of ranges) {
      if (entry.port !== undefined && entry.port !== port) continue;
      if (entry.range[0].kind() !== address.kind() || !address.match(entry.range)) continue;
      if (special === 'metadata' && !entry.exact) continue;
      return { allowed: true, rule: `SLUICE_EGRESS_ALLOW entry "${entry.text}"` };
    }
    if (special !== undefined) return { allowed: false, rule: rangeWords(special) };
    if (publicAddresses) return { allowed: true, rule: 'a public address' };
    const name = host?.toLowerCase().replace(/\.$/, '');
    const named = name && hosts.find((e) => (e.port === undefined || e.port === port) && (e.wildcard ? name.endsWith(`.${e.host}`) : name === e.host));
    if (named) return { allowed: true, rule: `SLUICE_EGRESS_ALLOW entry "${named.text}"` };
    return { allowed: false, rule: 'a public address that no SLUICE_EGRESS_ALLOW entry names (SLUICE_EGRESS_PUBLIC is off)' };
  }

  function resolve(host: string): Promise<LookupAddress[]> {
    return new Promise((done, fail) => {
      const timer = setTimeout(() => fail(new Error('lookup timed out')), publishLookupMs);
      lookup(host, { all: true }, (error, addresses) => {
        clearTimeout(timer);
        if (error) fail(error);
        else done(addresses);
      });
    });
  }

  async function check({ url, label, literal }: EgressTarget): Promise<string | undefined> {
    const host = bare(url.hostname);
    const port = defaultPort(url);
    const refused = (what: string) => `${label} is refused by the egress policy: ${what}; an operator can allow it with SLUICE_EGRESS_ALLOW`;
    if (isIP(host) !== 0) {
      const verdict = decide(host, port);
      return verdict.allowed ? undefined : refused(literal ? `${hostPort(host, port)} is ${verdict.rule}` : `its host is ${verdict.rule}`);
    }
    let addresses: LookupAddress[];
    try {
      addresses = await resolve(host);
    } catch {
      return undefined; // not resolvable from here now: each connection is checked when it is made
    }
    const verdicts = addresses.map((a) => ({ address: a.address, ...decide(a.address, port, host) }));
    if (verdicts.length === 0 || verdicts.some((v) => v.allowed)) return undefined;
    const first = verdicts[0]!;
    return refused(literal ? `${hostPort(host, port)} resolves to ${first.address}, ${first.rule}` : `its host resolves to ${first.rule}`);
  }

  /** dns.lookup for net.connect, keeping only the addresses allowed on `port`. */
  function checkedLookup(port: number) {
    return (hostname: string, lookupOptions: LookupOptions, callback: LookupCallback) => {
      lookup(hostname, { ...lookupOptions, all: true }, (error, addresses) => {
        if (error) return callback(error, lookupOptions.all ? [] : '');
        const allowed = addresses.filter((a) => decide(a.address, port, hostname).allowed);
        if (allowed.length === 0) {
          const first = addresses[0];
          const rule = first === undefined ? 'no address' : decide(first.address, port, hostname).rule;
          options.onDenied?.({ host: hostname, port, address: first?.address ?? '', rule });
          return callback(new EgressDenied(`the egress policy refuses ${hostPort(hostname, port)}: it resolves to ${rule}`), lookupOptions.all ? [] : '');
        }
        if (lookupOptions.all) callback(null, allowed);
        else callback(null, allowed[0]!.address, allowed[0]!.family);
      });
    };
  }

  function connector(): ReturnType<typeof buildConnector> {
    // one undici connector per port, each resolving through the checked lookup (TLS sessions are cached per connector)
    const byPort = new Map<number, ReturnType<typeof buildConnector>>();
    return function egressConnect(connectOptions, callback) {
      const port = connectOptions.port !== '' && connectOptions.port !== undefined ? Number(connectOptions.port) : connectOptions.protocol === 'https:' ? 443 : 80;
      const host = bare(connectOptions.hostname);
      if (isIP(host) !== 0) {
        // net.connect does not look a literal address up: it is decided here
        const verdict = decide(host, port);
        if (!verdict.allowed) {
          options.onDenied?.({ host, port, address: host, rule: verdict.rule });
          return void process.nextTick(callback, new EgressDenied(`the egress policy refuses ${hostPort(host, port)}: ${verdict.rule}`), null);
        }
      }
      let connect = byPort.get(port);
      if (connect === undefined) byPort.set(port, (connect = buildConnector({ timeout: 10_000, lookup: checkedLookup(port) as never })));
      connect(connectOptions, callback);
    };
  }

  return {
    key: JSON.stringify([entries.map((e) => e.text), publicAddresses, options.lookup === undefined ? 0 : lookupIdOf(options.lookup)]),
    summary: { allow: entries.map((e) => e.text), publicAddresses },
    decide,
    check,
    connector,
    allowing: (entry) => createEgressPolicy({ ...options, allow: allow === '' ? entry : `${allow},${entry}` }),
  };
}
