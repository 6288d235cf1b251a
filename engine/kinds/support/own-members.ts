/**
 * Objects keyed by names from outside (headers, vars): every name an own member, `__proto__` too.
 */

/** Sets an own member whatever its name: assigning `__proto__` would set the object's prototype instead. */
export function setOwn<V>(target: Record<string, V>, name: string, value: V): void {
  if (name === '__proto__') Object.defineProperty(target, name, { value, enumerable: true, configurable: true, writable: true });
  else target[name] = value;
}

/**
 * A copy of an object's members, made member by member. Not a spread: in V8 (Node 20) a spread's
 * copy gets a map of its own, so adding a member to it (`{ ...headers, age }`) makes a new map
 * every time (~1 µs), and every later store to the copy misses its inline cache (a runtime call),
 * as Node's writeHead's walk over it does. Copied member by member, copies share their map.
 */
export function copyOwn<V>(from: Record<string, V>): Record<string, V> {
  const copy: Record<string, V> = {};
  for (const name in from) setOwn(copy, name, from[name]!);
  return copy;
}
