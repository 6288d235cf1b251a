import type { ConfigOf, KindName } from '../../shared/nodes/index.ts';
import { apiKey } from './api-key.ts';
import { cacheLookup } from './cache-lookup.ts';
import { cacheStore } from './cache-store.ts';
import { clientCert } from './client-cert.ts';
import { condition } from './condition.ts';
import { cors } from './cors.ts';
import { errorNode } from './error.ts';
import { httpCall } from './http-call.ts';
import { hmacVerify } from './hmac-verify.ts';
import { introspect } from './introspect.ts';
import { jwtVerify } from './jwt-verify.ts';
import { promptGuard } from './prompt-guard.ts';
import { proxy } from './proxy.ts';
import { rateLimit } from './rate-limit.ts';
import { respond } from './respond.ts';
import { scopeCheck } from './scope-check.ts';
import { subflow } from './subflow.ts';
import { switchNode } from './switch.ts';
import { mcpTool } from './mcp-tool.ts';
import { transformRequest } from './transform-request.ts';
import { transformResponse } from './transform-response.ts';
import { validateRequest } from './validate-request.ts';
import type { Runtime } from './types.ts';

/** How every kind runs. Typed so that a kind without a runtime fails to compile. */
export const runtimes: { [K in KindName]: Runtime<ConfigOf<K>> } = {
  cors,
  'jwt-verify': jwtVerify,
  'api-key': apiKey,
  'hmac-verify': hmacVerify,
  introspect,
  'client-cert': clientCert,
  'scope-check': scopeCheck,
  'validate-request': validateRequest,
  'prompt-guard': promptGuard,
  condition,
  switch: switchNode,
  'mcp-tool': mcpTool,
  subflow,
  'rate-limit': rateLimit,
  'transform-request': transformRequest,
  'transform-response': transformResponse,
  proxy,
  'http-call': httpCall,
  'cache-lookup': cacheLookup,
  'cache-store': cacheStore,
  respond,
  error: errorNode,
};

export { hashApiKey } from './api-key.ts';
