import { startUpstream, type TestUpstream } from '../../helpers/upstream.ts';
import { createIssuer, TEST_AUDIENCE, TEST_ISSUER, type TestIssuer } from '../../helpers/issuer.ts';
import type { TestGateway } from '../../helpers/gateway.ts';
import { startGateway, workflow } from '../../helpers/workflow.ts';

export interface ObservedSetup {
  gw: TestGateway;
  upstream: TestUpstream;
  issuer: TestIssuer;
  tokens: { acme: string; globex: string; noScope: string };
  adminToken: string;
  subjectKey: string;
  close(): Promise<void>;
}

/**
 * A gateway with the workflows the observability tests drive: obs-orders (verify, scopes, a
 * limit of 3 per hour per partner, proxy), obs-down (proxy to a port nobody listens on) and
 * obs-plain (verify, proxy); a real upstream and a real issuer with tokens for two partners.
 */
export async function createTestIssuerWorkflows(settings: Record<string, string> = {}): Promise<ObservedSetup> {
  const upstream = await startUpstream();
  const issuer = await createIssuer();
  const verify = { id: 'verify', kind: 'jwt-verify', config: { jwks: issuer.jwks, issuer: TEST_ISSUER, audience: TEST_AUDIENCE } };
  const adminToken = 'observe-admin-token-0123456789abcdef';
  const subjectKey = 'subject-hmac-key-for-tests';
  const gw = await startGateway(
    [
      workflow(
        'obs-orders',
        { path: '/obs/orders' },
        [verify, { id: 'scopes', kind: 'scope-check', config: { all: ['orders:read'] } }, { id: 'limit', kind: 'rate-limit', config: { limit: 3, window: '1h' } }, { id: 'call', kind: 'proxy', config: { url: '${UPSTREAM}' } }],
        [['verify', 'ok', 'scopes'], ['scopes', 'ok', 'limit'], ['limit', 'ok', 'call']],
      ),
      workflow('obs-down', { path: '/obs/down' }, [verify, { id: 'call', kind: 'proxy', config: { url: 'http://127.0.0.1:9' } }], [['verify', 'ok', 'call']]),
      workflow('obs-plain', { path: '/obs/plain' }, [verify, { id: 'call', kind: 'proxy', config: { url: '${UPSTREAM}' } }], [['verify', 'ok', 'call']]),
      // an LLM call to the echo upstream, which says no usage: the gateway estimates it
      workflow('obs-llm', { path: '/obs/llm/*', methods: ['POST'] }, [verify, { id: 'call', kind: 'proxy', config: { url: '${UPSTREAM}', stripPrefix: '/obs/llm', llm: { api: 'openai' } } }], [['verify', 'ok', 'call']]),
    ],
    {
      env: { UPSTREAM: upstream.url },
      settings: { SLUICE_ADMIN_TOKENS: `ops:admin:${adminToken}`, SLUICE_LOG_SUBJECT_KEY: subjectKey, ...settings },
    },
  );
  const tokens = {
    acme: await issuer.sign({ sub: 'alice@example.com', azp: 'acme', scope: 'orders:read' }),
    globex: await issuer.sign({ sub: 'bob@example.com', azp: 'globex', scope: 'orders:read' }),
    noScope: await issuer.sign({ sub: 'carol@example.com', azp: 'globex', scope: 'profile' }),
  };
  return {
    gw,
    upstream,
    issuer,
    tokens,
    adminToken,
    subjectKey,
    async close() {
      await gw.close().catch(() => undefined);
      await upstream.close();
    },
  };
}
