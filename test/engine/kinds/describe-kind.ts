import { describe, expect, it } from 'vitest';
import { kindConfigJsonSchema } from '../../../shared/compile/json-schema.ts';
import { faultsOf, kinds, type AnyKindDescriptor, type KindName } from '../../../shared/nodes/index.ts';

/** What a kind's descriptor (shared/nodes/<kind>.ts) must say, as its test file writes it down. */
export interface KindCases {
  /** The smallest valid config, and what it parses to: the documented defaults filled in. */
  minimal: { config: Record<string, unknown>; parsed: Record<string, unknown> };
  accepts: Array<[name: string, config: Record<string, unknown>]>;
  /** Configs refused, with the field paths the refusal names (an unknown key is named by the key). */
  refuses: Array<[name: string, config: unknown, fields: string[]]>;
  /** Configs, and whether the gateway must buffer the request body for them. */
  readsBody?: Array<[config: Record<string, unknown>, reads: boolean]>;
  /** The declared errors that no port of the minimal config defaults (faultsOf). */
  faults?: string[];
}

/** The field paths of a refused config: an unknown key is named by the key. */
function refusedFields(descriptor: AnyKindDescriptor, config: unknown): string[] {
  const result = descriptor.config.safeParse(config);
  if (result.success) return [];
  return result.error.issues.flatMap((issue) => (issue.code === 'unrecognized_keys' ? issue.keys.map((k) => [...issue.path, k]) : [issue.path]).map((p) => p.join('.')));
}

/**
 * The descriptor half of a kind's test file: its config table (defaults, accepted and refused
 * configs), its faults, and whether it reads the request body. The kinds' index test checks that
 * every kind's test file calls this. That every port and declared error is reached is not written
 * down here: test/coverage checks it after a full run from what the gateways the tests started
 * did (their port counters, request log and simulate traces).
 */
export function describeKind(kind: KindName, cases: KindCases): void {
  const descriptor: AnyKindDescriptor = kinds[kind];
  const minimalPorts = () => descriptor.ports(descriptor.config.parse(cases.minimal.config)).map((p) => p.name);

  describe(`the ${kind} descriptor`, () => {
    it(`${kind} accepts its smallest config and fills in the documented defaults`, () => {
      const parsed = descriptor.config.parse(cases.minimal.config);
      expect(parsed).toEqual(cases.minimal.parsed);
      // a parsed config parses to itself (what the admin API stores is re-validated on load)
      expect(descriptor.config.parse(parsed)).toEqual(parsed);
    });

    it(`${kind}: every default its JSON Schema shows is the default it parses to`, () => {
      const properties = kindConfigJsonSchema(kind).properties as Record<string, { default?: unknown; title?: string }>;
      const parsed = descriptor.config.parse(cases.minimal.config) as Record<string, unknown>;
      for (const [name, property] of Object.entries(properties)) {
        if ('default' in property && !(name in cases.minimal.config)) expect({ [name]: parsed[name] }).toEqual({ [name]: property.default });
        expect(property.title, `${kind}.${name} has a title for the editor's form`).toBeTruthy();
      }
    });

    if (cases.accepts.length > 0)
      it.each(cases.accepts)(`${kind} accepts %s`, (_name, config) => {
        expect(refusedFields(descriptor, config)).toEqual([]);
      });

    it(`${kind} has refusal cases`, () => {
      expect(cases.refuses.length).toBeGreaterThan(0);
    });
    it.each(cases.refuses)(`${kind} refuses %s`, (_name, config, fields) => {
      expect(refusedFields(descriptor, config)).toEqual(fields);
    });

    it(`${kind} has uniquely named ports`, () => {
      const names = minimalPorts();
      expect(names.length).toBeGreaterThan(0);
      expect(new Set(names).size).toBe(names.length);
    });

    if (cases.readsBody !== undefined)
      it.each(cases.readsBody)(`${kind} %j reads the request body: %s`, (config, reads) => {
        expect(descriptor.readsRequestBody?.(descriptor.config.parse(config)) ?? false).toBe(reads);
      });

    if (cases.faults !== undefined) {
      const faults = cases.faults;
      it(`faultsOf(${kind}) is ${JSON.stringify(faults)}: its errors that are no port default`, () => {
        expect(faultsOf(descriptor, descriptor.ports(descriptor.config.parse(cases.minimal.config)))).toEqual(faults);
      });
    }
  });
}
