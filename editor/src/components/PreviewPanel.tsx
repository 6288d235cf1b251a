import { useState } from 'react';
import { describeError, type Api } from '../api/client.ts';
import type { SimulationResult, TestVerdict, TraceStep } from '../api/preview-types.ts';
import type { PathHighlight } from '../editor-context.ts';
import { withoutCredentials, type PartnerCredential, type SavedRequest } from '../api/credentials.ts';
import { useAsk } from '../hooks/useAsk.ts';
import { AskDialog } from './Dialog.tsx';
import { parseHeaders } from '../forms/headers-text.ts';
import { PartnerKeyPicker, useMustMock } from '../partners/PartnerKeyPicker.tsx';
import { useShareSample } from '../forms/sample.ts';
import { ownerTrace } from '../graph/subflow.ts';

type TokenClaims = { sub: string; scopes: string[]; partner?: string };
/** A sample request saved with the workflow (the document's `samples`). */
export type WorkflowSample = { name: string; request: SavedRequest; upstream?: { status: number; body?: unknown } };
type WorkflowTest = WorkflowSample & { expect: { status: number; type?: string } };

export interface PreviewPanelProps {
  api: Api;
  workflowId: string;
  /** The canvas as a document: what is previewed, saved or not. */
  document(): Record<string, unknown>;
  route: { methods: string[]; path: string };
  tests: readonly WorkflowTest[];
  samples: readonly WorkflowSample[];
  readOnly: boolean;
  canMintTokens: boolean;
  onHighlight(path: PathHighlight | undefined): void;
  onSaveTest(test: WorkflowTest): void;
  onSaveSample(sample: WorkflowSample): void;
}

/** The badge class of a status: green 2xx, amber 4xx, red 5xx. */
export const statusClass = (status: number) => `status-badge status-badge--${Math.floor(status / 100)}xx`;

/** The trace as a path on the canvas: nodes with their durations, edges by (source, port); a fragment's inlined steps drawn on their subflow node. */
function traceHighlight(run: readonly TraceStep[], label: string, document: Record<string, unknown>): PathHighlight {
  const trace = ownerTrace(run, Array.isArray(document.edges) ? (document.edges as Array<{ from: string; port: string; to: string }>) : []);
  return {
    label,
    nodes: new Map(trace.map((s) => [s.node, { ms: s.ms }])),
    edges: new Set(trace.map((s) => `${s.node}\u0000${s.port}`)),
  };
}

/**
 * The request panel: build a sample request (method, path, headers, body, a demo token with
 * chosen claims, a mocked upstream), run it through the canvas's workflow in the real engine, see
 * the answer and the trace; save it as a workflow test; run the workflow's tests.
 */
export function PreviewPanel(props: PreviewPanelProps) {
  const { api } = props;
  const [method, setMethod] = useState(props.route.methods[0] ?? 'GET');
  const [path, setPath] = useState(props.route.path.replace(/:([A-Za-z_]\w*)/g, '$1-1').replace(/\/\*$/, '/x'));
  const [headers, setHeaders] = useState('');
  const [body, setBody] = useState('');
  const [scopes, setScopes] = useState('orders:read');
  const [partner, setPartner] = useState('acme');
  const [mock, setMock] = useState(true);
  const [mockStatus, setMockStatus] = useState(200);
  const [mockBody, setMockBody] = useState('{ "orders": [{ "id": "ord-1", "total": 42 }] }');
  const [result, setResult] = useState<SimulationResult | undefined>();
  const [picked, setPicked] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const ask = useAsk();
  const [verdicts, setVerdicts] = useState<TestVerdict[] | undefined>();
  /** The claims of the token the helper put in the Authorization header, while it is still there. */
  const [minted, setMinted] = useState<{ claims: TokenClaims; header: string } | undefined>();
  /** What the last save did with the request's credentials. */
  const [stripped, setStripped] = useState<string[]>([]);
  /** The partner credential the request runs as (picked, or a loaded sample's): a reference, the run makes the credential. */
  const [credential, setCredential] = useState<PartnerCredential>();
  const mustMock = useMustMock(credential);
  useShareSample({ method, path, headers, body, route: props.route.path, scopes, partner, mock, mockStatus, mockBody }); // the JSONata fields' Evaluate uses this request

  const request = () => {
    let parsedBody: unknown;
    if (body.trim() !== '') parsedBody = JSON.parse(body);
    return { method, path, headers: parseHeaders(headers), ...(parsedBody === undefined ? {} : { body: parsedBody }), ...credential };
  };
  /**
   * The request as saved, never with a credential: a minted token becomes its claims, minted again
   * whenever it runs (tokens expire); other credentials become references or are left out.
   */
  const savedRequest = async (): Promise<SavedRequest> => {
    const { headers: h, ...rest } = request();
    let saved: SavedRequest = { ...rest, headers: h };
    if (minted && h.authorization === minted.header) {
      const { authorization: _minted, ...others } = h;
      saved = { ...rest, headers: others, token: minted.claims };
    }
    const { request: clean, notes } = await withoutCredentials(api, props.document(), saved);
    setStripped(notes);
    return clean;
  };
  function load(sample: WorkflowSample) {
    setMethod(sample.request.method);
    setPath(sample.request.path);
    const h = Object.entries(sample.request.headers ?? {}).map(([k, v]) => `${k}: ${v}`);
    setBody(sample.request.body === undefined ? '' : JSON.stringify(sample.request.body, null, 2));
    setMock(sample.upstream !== undefined);
    if (sample.upstream) {
      setMockStatus(sample.upstream.status);
      setMockBody(sample.upstream.body === undefined ? '' : JSON.stringify(sample.upstream.body));
    }
    setHeaders(h.join('\n'));
    setMinted(undefined);
    const { apiKey, clientCert, hmac, introspected } = sample.request;
    setCredential(apiKey ? { apiKey } : clientCert ? { clientCert } : hmac ? { hmac } : introspected ? { introspected } : undefined);
    if (sample.request.token) {
      const claims = sample.request.token;
      setScopes(claims.scopes.join(' '));
      setPartner(claims.partner ?? '');
      void mint(claims);
    }
  }
  const upstream = () => (mock || mustMock ? { status: mockStatus, body: mockBody.trim() === '' ? undefined : JSON.parse(mockBody) } : undefined);

  async function run() {
    setBusy(true);
    setError(undefined);
    try {
      const document = props.document();
      const answer = await api.simulate({ document, request: request(), ...(upstream() ? { upstream: upstream()! } : {}) });
      setResult(answer);
      setPicked(undefined);
      props.onHighlight(answer.ok ? traceHighlight(answer.trace, `Preview: ${method} ${path} → ${answer.response.status}`, document) : undefined);
    } catch (e) {
      setError(e instanceof SyntaxError ? `not JSON: ${e.message}` : describeError(e));
    } finally {
      setBusy(false);
    }
  }

  async function mint(given?: TokenClaims) {
    try {
      const claims: TokenClaims = given ?? { sub: 'preview-user', scopes: scopes.split(/[\s,]+/).filter(Boolean), ...(partner ? { partner } : {}) };
      const { token } = await api.demoToken(claims);
      setMinted({ claims, header: `Bearer ${token}` });
      setHeaders((text) => [...text.split('\n').filter((l) => l.trim() !== '' && !/^authorization\s*:/i.test(l)), `authorization: Bearer ${token}`].join('\n'));
    } catch (e) {
      setError(describeError(e));
    }
  }

  async function saveAsTest() {
    if (!result?.ok) return;
    const name = await ask.prompt({ title: 'Save as test', text: 'The request and the answer it got become a workflow test, run before every publish.', confirm: 'Save test', input: { label: 'Name of the test', value: `${method} ${path} answers ${result.response.status}` } });
    if (!name) return;
    const type = (result.response.body as { type?: unknown } | null)?.type;
    props.onSaveTest({
      name,
      request: await savedRequest(),
      ...(upstream() ? { upstream: upstream()! } : {}),
      expect: { status: result.response.status, ...(typeof type === 'string' ? { type } : {}) },
    });
  }

  async function saveSample() {
    const name = await ask.prompt({ title: 'Save the sample request', text: 'The request is kept with the draft, to run again later.', confirm: 'Save sample', input: { label: 'Name of the sample request', value: `${method} ${path}` } });
    if (!name) return;
    props.onSaveSample({ name, request: await savedRequest(), ...(upstream() ? { upstream: upstream()! } : {}) });
  }

  async function runTests() {
    setBusy(true);
    setError(undefined);
    try {
      setVerdicts((await api.runTests(props.workflowId, props.document())).tests);
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  }

  const step = result?.ok ? result.trace.find((s) => s.node === picked) : undefined;
  return (
    <section className="preview" aria-label="Preview">
      <h2>Preview a request</h2>
      {props.samples.length > 0 && (
        <label>
          Saved samples
          <select aria-label="Saved samples" value="" onChange={(e) => e.target.value !== '' && load(props.samples[Number(e.target.value)]!)}>
            <option value="">load a sample…</option>
            {props.samples.map((sample, i) => (
              <option key={i} value={i}>
                {sample.name}
              </option>
            ))}
          </select>
        </label>
      )}
      <div className="preview__row">
        <label>
          Method
          <select aria-label="Method" value={method} onChange={(e) => setMethod(e.target.value)}>
            {['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'].map((m) => (
              <option key={m}>{m}</option>
            ))}
          </select>
        </label>
        <label style={{ flex: 3 }}>
          Path
          <input aria-label="Path" value={path} onChange={(e) => setPath(e.target.value)} />
        </label>
      </div>
      <label>
        Headers (name: value per line)
        <textarea aria-label="Headers" value={headers} onChange={(e) => setHeaders(e.target.value)} spellCheck={false} />
      </label>
      <PartnerKeyPicker credential={credential} document={props.document} onPick={setCredential} onMustMock={() => setMock(true)} />
      {props.canMintTokens && (
        <div className="preview__row">
          <label>
            Scopes
            <input aria-label="Token scopes" value={scopes} onChange={(e) => setScopes(e.target.value)} />
          </label>
          <label>
            Partner
            <input aria-label="Token partner" value={partner} onChange={(e) => setPartner(e.target.value)} />
          </label>
          <button type="button" onClick={() => void mint()} title="Sign a demo token with these claims and put it in the Authorization header (saved requests keep the claims and mint a fresh token each run)">
            Mint token
          </button>
        </div>
      )}
      <label>
        Body (JSON)
        <textarea aria-label="Body" value={body} onChange={(e) => setBody(e.target.value)} spellCheck={false} />
      </label>
      <label className="preview__row" style={{ justifyContent: 'flex-start' }}>
        <input type="checkbox" style={{ width: 'auto', flex: 0 }} checked={mock || mustMock} disabled={mustMock} title={mustMock ? 'Your role runs a partner\'s credential against a mocked upstream only' : undefined} onChange={(e) => setMock(e.target.checked)} aria-label="Mock the upstream" /> Mock the upstream
      </label>
      {(mock || mustMock) && (
        <div className="preview__row">
          <label>
            Status
            <input aria-label="Mock status" type="number" value={mockStatus} onChange={(e) => setMockStatus(Number(e.target.value))} />
          </label>
          <label style={{ flex: 3 }}>
            Body
            <input aria-label="Mock body" value={mockBody} onChange={(e) => setMockBody(e.target.value)} />
          </label>
        </div>
      )}
      <div className="preview__actions">
        <button type="button" className="primary" onClick={() => void run()} disabled={busy}>
          Run preview
        </button>
        <button type="button" onClick={() => void saveAsTest()} disabled={!result?.ok || props.readOnly} title={props.readOnly ? 'Read-only' : 'Save this request and its answer as a workflow test (a minted token is saved as its claims)'}>
          Save as test
        </button>
        <button type="button" onClick={() => void saveSample()} disabled={props.readOnly} title={props.readOnly ? 'Read-only' : 'Save this request with the workflow, to load it again later'}>
          Save sample
        </button>
        <button type="button" onClick={() => props.onHighlight(undefined)}>
          Clear path
        </button>
      </div>
      {stripped.length > 0 && (
        <div role="status" aria-label="Credentials not stored">
          Saved without its credentials:
          <ul>
            {stripped.map((note) => (
              <li key={note}>{note}</li>
            ))}
          </ul>
        </div>
      )}
      {error && (
        <p role="alert" className="test-result--failed">
          {error}
        </p>
      )}
      {result && !result.ok && (
        <div role="alert">
          <strong>The workflow cannot run:</strong>
          <ul>
            {result.problems.map((p, i) => (
              <li key={i}>
                {p.node ?? 'workflow'}
                {p.field ? ` ${p.field}` : ''}: {p.message}
              </li>
            ))}
          </ul>
        </div>
      )}
      {result?.ok && (
        <div aria-label="Preview result">
          <p>
            <span className={statusClass(result.response.status)} aria-label={`Answer status ${result.response.status}`}>
              {result.response.status}
            </span>{' '}
            <span className="muted">
              {result.path.length} node{result.path.length === 1 ? '' : 's'} in {result.ms.toFixed(1)} ms
            </span>
          </p>
          <ol className="trace" aria-label="Trace">
            {result.trace.map((s) => (
              <li key={s.node}>
                <button type="button" aria-pressed={picked === s.node} onClick={() => setPicked(picked === s.node ? undefined : s.node)}>
                  <span>
                    {s.node} → {s.port}
                  </span>
                  <span>{s.ms.toFixed(2)} ms</span>
                </button>
              </li>
            ))}
          </ol>
          {step && (
            <div aria-label={`Node ${step.node} input and output`}>
              <h3>
                {step.node} ({step.kind}){step.error ? ` failed: ${step.error}` : ''}
              </h3>
              <strong>Changed</strong>
              <pre>{step.changes.length === 0 ? 'nothing' : JSON.stringify(Object.fromEntries(step.changes.map((c) => [c.field, c.after])), null, 2)}</pre>
              <strong>Input</strong>
              <pre>{JSON.stringify(step.input, null, 2)}</pre>
            </div>
          )}
          <strong>Headers</strong>
          <pre aria-label="Answer headers">{Object.entries(result.response.headers).map(([k, v]) => `${k}: ${v}`).join('\n')}</pre>
          <strong>Body</strong>
          <pre aria-label="Answer body">{typeof result.response.body === 'string' ? result.response.body : JSON.stringify(result.response.body, null, 2)}</pre>
        </div>
      )}
      <h2>Workflow tests ({props.tests.length})</h2>
      <div className="preview__actions">
        <button type="button" onClick={() => void runTests()} disabled={busy || props.tests.length === 0}>
          Run tests
        </button>
      </div>
      {verdicts && (
        <ul aria-label="Test results">
          {verdicts.map((v) => (
            <li key={v.name} className={v.passed ? 'test-result--passed' : 'test-result--failed'}>
              {v.passed ? '✓' : '✗'} {v.name}
              {v.failures.map((f, i) => (
                <div key={i} className="muted">
                  {f.what}: expected {JSON.stringify(f.expected)}, got {JSON.stringify(f.actual)}
                </div>
              ))}
            </li>
          ))}
        </ul>
      )}
      <AskDialog question={ask.question} onAnswer={ask.answer} />
    </section>
  );
}
