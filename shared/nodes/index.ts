import { apiKeyKind } from './api-key.ts';
import { cacheLookupKind } from './cache-lookup.ts';
import { cacheStoreKind } from './cache-store.ts';
import { clientCertKind } from './client-cert.ts';
import { conditionKind } from './condition.ts';
import { corsKind } from './cors.ts';
import { errorKind } from './error.ts';
import { httpCallKind } from './http-call.ts';
import { hmacVerifyKind } from './hmac-verify.ts';
import { introspectKind } from './introspect.ts';
import { jwtVerifyKind } from './jwt-verify.ts';
import { mcpToolKind } from './mcp-tool.ts';
import type { AnyKindDescriptor, KindDescriptor, PortSpec } from './kind.ts';
import { promptGuardKind } from './prompt-guard.ts';
import { proxyKind } from './proxy.ts';
import { rateLimitKind } from './rate-limit.ts';
import { respondKind } from './respond.ts';
import { scopeCheckKind } from './scope-check.ts';
import { subflowKind } from './subflow.ts';
import { switchKind } from './switch.ts';
import { transformRequestKind } from './transform-request.ts';
import { transformResponseKind } from './transform-response.ts';
import { validateRequestKind } from './validate-request.ts';

/** Every node kind, by name. Adding a kind: its descriptor here, its runtime in engine/kinds/<kind>.ts, listed in engine/kinds/index.ts, its tests in test/engine/kinds/<kind>.test.ts. */
export const kinds = {
  cors: corsKind,
  'jwt-verify': jwtVerifyKind,
  'api-key': apiKeyKind,
  'hmac-verify': hmacVerifyKind,
  introspect: introspectKind,
  'client-cert': clientCertKind,
  'scope-check': scopeCheckKind,
  'validate-request': validateRequestKind,
  'prompt-guard': promptGuardKind,
  condition: conditionKind,
  switch: switchKind,
  'mcp-tool': mcpToolKind,
  subflow: subflowKind,
  'rate-limit': rateLimitKind,
  'transform-request': transformRequestKind,
  'transform-response': transformResponseKind,
  proxy: proxyKind,
  'http-call': httpCallKind,
  'cache-lookup': cacheLookupKind,
  'cache-store': cacheStoreKind,
  respond: respondKind,
  error: errorKind,
} as const;

export type KindName = keyof typeof kinds;
export type ConfigOf<K extends KindName> = (typeof kinds)[K] extends KindDescriptor<infer C> ? C : never;

export function isKindName(name: string): name is KindName {
  return Object.hasOwn(kinds, name);
}

/** Every catalog error some kind declares (the error kind's come from its config). */
export function kindErrorIds(): string[] {
  return [...new Set((Object.values(kinds) as AnyKindDescriptor[]).flatMap((d) => d.errors))];
}

/** The errors a node raises whatever its wiring: its kind's errors that are no port's default. */
export function faultsOf(descriptor: AnyKindDescriptor, ports: PortSpec[]): string[] {
  const portErrors = new Set(ports.flatMap((p) => (typeof p.unwired === 'object' ? [p.unwired.error] : [])));
  return descriptor.errors.filter((id) => !portErrors.has(id));
}

export { CATEGORIES, type AnyKindDescriptor, type PortSpec } from './kind.ts';
export type { JwtVerifyConfig } from './jwt-verify.ts';
export type { ApiKeyConfig } from './api-key.ts';
export type { HmacVerifyConfig } from './hmac-verify.ts';
export type { IntrospectConfig } from './introspect.ts';
export type { ScopeCheckConfig } from './scope-check.ts';
export type { ConditionConfig } from './condition.ts';
export type { SwitchConfig } from './switch.ts';
export type { McpToolConfig } from './mcp-tool.ts';
export type { RateLimitConfig } from './rate-limit.ts';
export type { TransformRequestConfig } from './transform-request.ts';
export type { TransformResponseConfig } from './transform-response.ts';
export type { ProxyConfig } from './proxy.ts';
export type { RespondConfig } from './respond.ts';
export type { ErrorConfig } from './error.ts';
export type { CorsConfig } from './cors.ts';
export type { HttpCallConfig } from './http-call.ts';
export type { ValidateRequestConfig } from './validate-request.ts';
export type { CacheLookupConfig } from './cache-lookup.ts';
export type { CacheStoreConfig } from './cache-store.ts';
export type { SubflowConfig } from './subflow.ts';
export type { ClientCertConfig } from './client-cert.ts';
export type { PromptGuardConfig } from './prompt-guard.ts';
