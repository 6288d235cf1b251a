import { useEffect, useState } from 'react';
import type { Route } from '../../../shared/schema/index.ts';
import type { ValidationProblem } from '../api/types.ts';
import { fieldDomId } from './FieldFrame.tsx';

const SCOPE = 'workflow';
const hostsText = (hosts: string[] | undefined) => (hosts ?? []).join(', ');
const headersText = (headers: Record<string, string> | undefined) =>
  Object.entries(headers ?? {})
    .map(([name, value]) => `${name}: ${value}`)
    .join('\n');

/** `api.example.com, *.eu.example.com` as hosts; none: undefined (any host). */
function parseHosts(text: string): string[] | undefined {
  const hosts = text.split(/[\s,]+/).filter((h) => h !== '').map((h) => h.toLowerCase());
  return hosts.length > 0 ? hosts : undefined;
}

/** `x-api-version: 2` lines as header conditions; none: undefined. */
function parseHeaders(text: string): Record<string, string> | undefined {
  const entries = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line) => {
      const colon = line.indexOf(':');
      return colon < 0 ? [line.toLowerCase(), ''] : [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()];
    });
  return entries.length > 0 ? Object.fromEntries(entries) : undefined;
}

interface RouteConditionsProps {
  route: Partial<Route> | undefined;
  problems(field: string): ValidationProblem[];
  readOnly: boolean;
  readOnlyReason: string | undefined;
  /** Sets (or, with undefined, removes) the route's hosts or headers. */
  change(field: 'hosts' | 'headers', value: string[] | Record<string, string> | undefined): void;
}

/**
 * The route's optional conditions: the hosts it answers (exact or `*.domain`) and headers a
 * request must carry. Edited as text and applied when the field is left, so typing a comma or a
 * half line is not undone by the parse.
 */
export function RouteConditions({ route, problems, readOnly, readOnlyReason, change }: RouteConditionsProps) {
  const [hosts, setHosts] = useState(hostsText(route?.hosts));
  const [headers, setHeaders] = useState(headersText(route?.headers));
  const savedHosts = hostsText(route?.hosts);
  const savedHeaders = headersText(route?.headers);
  useEffect(() => setHosts(savedHosts), [savedHosts]);
  useEffect(() => setHeaders(savedHeaders), [savedHeaders]);
  const ro = readOnly ? { title: readOnlyReason, 'aria-description': readOnlyReason } : {};
  const errors = (field: string) =>
    problems(field).map((p, i) => (
      <p key={i} className="field__error">
        {p.message}
      </p>
    ));
  return (
    <>
      <div className={problems('route.hosts').length > 0 ? 'field field--problem' : 'field'}>
        <label htmlFor={fieldDomId(SCOPE, 'route.hosts')}>Hosts (optional)</label>
        <input id={fieldDomId(SCOPE, 'route.hosts')} type="text" value={hosts} readOnly={readOnly} {...ro} spellCheck={false} placeholder="any host" aria-describedby="workflow-hosts-desc" onChange={(e) => setHosts(e.target.value)} onBlur={() => hosts !== savedHosts && change('hosts', parseHosts(hosts))} />
        <p id="workflow-hosts-desc" className="field__desc">
          Answer only these hosts, comma-separated: <code>api.example.com</code> or <code>*.example.com</code>. An exact host wins over a wildcard.
        </p>
        {errors('route.hosts')}
      </div>
      <div className={problems('route.headers').length > 0 ? 'field field--problem' : 'field'}>
        <label htmlFor={fieldDomId(SCOPE, 'route.headers')}>Header conditions (optional)</label>
        <textarea id={fieldDomId(SCOPE, 'route.headers')} rows={2} value={headers} readOnly={readOnly} {...ro} spellCheck={false} placeholder="x-api-version: 2" aria-describedby="workflow-headers-desc" onChange={(e) => setHeaders(e.target.value)} onBlur={() => headers !== savedHeaders && change('headers', parseHeaders(headers))} />
        <p id="workflow-headers-desc" className="field__desc">
          One <code>name: value</code> per line: only requests carrying these values. Routes of one path with more conditions win.
        </p>
        {errors('route.headers')}
      </div>
    </>
  );
}
