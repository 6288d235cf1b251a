/**
 * The output ports of a node as drawn on the canvas. A valid config gets exactly the ports its
 * kind's descriptor (shared/nodes) declares; a half-filled config, which the descriptor's
 * `ports()` is not written for, gets the same rule applied tolerantly so the node can be wired
 * while it is being configured.
 *
 * Should move to shared/nodes as `draftPorts(kind, config)` (and the /kinds payload could carry
 * the static ports), so this rule cannot drift from the descriptors.
 */
import { isKindName, kinds, type AnyKindDescriptor, type PortSpec } from '../../../shared/nodes/index.ts';

const cache = new WeakMap<object, { kind: string; ports: PortSpec[] }>();
const NONE: PortSpec[] = [];

const isPortName = (name: unknown): name is string => typeof name === 'string' && name !== '';

/** Drops nameless and repeated ports, which a half-filled config can produce. */
function sanitize(ports: PortSpec[]): PortSpec[] {
  const seen = new Set<string>();
  return ports.filter((p) => isPortName(p.name) && !seen.has(p.name) && seen.add(p.name));
}

function draftPorts(descriptor: AnyKindDescriptor, config: Record<string, unknown>): PortSpec[] {
  // switch: one port per case that names one, then "default" (see shared/nodes/switch.ts).
  if (descriptor.kind === 'switch') {
    const cases = Array.isArray(config.cases) ? (config.cases as Array<{ port?: unknown; when?: unknown } | null>) : [];
    const named = cases.filter((c): c is { port: string; when?: unknown } => isPortName(c?.port) && c.port !== 'default');
    return sanitize([
      ...named.map((c) => ({ name: c.port, description: `When ${typeof c.when === 'string' ? c.when : '…'}`, unwired: 'required' as const })),
      { name: 'default', description: 'No case matched.', unwired: 'required' },
    ]);
  }
  try {
    return sanitize(descriptor.ports(config));
  } catch {
    return NONE;
  }
}

/**
 * The ports of a node of `kind` with `config`; the same array for the same config object, so a
 * memoised node component does not redraw its handles.
 * @example
 * portsOf('switch', { cases: [{ port: 'eu', when: 'x' }] }).map((p) => p.name); // ['eu', 'default']
 */
export function portsOf(kind: string, config: Record<string, unknown>): PortSpec[] {
  const hit = cache.get(config);
  if (hit && hit.kind === kind) return hit.ports;
  let ports = NONE;
  if (isKindName(kind)) {
    const descriptor: AnyKindDescriptor = kinds[kind];
    const parsed = descriptor.config.safeParse(config);
    ports = parsed.success ? descriptor.ports(parsed.data) : draftPorts(descriptor, config);
  }
  cache.set(config, { kind, ports });
  return ports;
}

/** What happens when a port is left unwired, in a few words for the canvas. */
export function unwiredText(port: PortSpec): string {
  if (port.unwired === 'required') return 'must be wired';
  if (port.unwired === 'finish') return 'answers';
  return port.unwired.error;
}

export type { PortSpec };
