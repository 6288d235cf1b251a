import { useEffect, useRef, useState } from 'react';

/** The part of Scalar's browser bundle (window.Scalar) the portal calls. */
interface ScalarGlobal {
  createApiReference(element: Element, configuration: Record<string, unknown>): { destroy(): void };
}

/** Scalar's bundle, served by the gateway from its package (engine/portal/portal-api.ts); loaded once per page. */
const SCALAR_SRC = '/portal/assets/scalar.js';
let loading: Promise<ScalarGlobal> | undefined;

function loadScalar(): Promise<ScalarGlobal> {
  loading ??= new Promise<ScalarGlobal>((resolve, reject) => {
    const script = document.createElement('script');
    script.src = SCALAR_SRC;
    script.async = true;
    script.onload = () => {
      const scalar = (window as unknown as { Scalar?: ScalarGlobal }).Scalar;
      if (scalar) resolve(scalar);
      else reject(new Error('the reference renderer did not load'));
    };
    script.onerror = () => {
      loading = undefined;
      reject(new Error('the reference renderer could not be loaded'));
    };
    document.head.append(script);
  });
  return loading;
}

/**
 * Scalar configured to fetch nothing: the document is handed over (no URL to fetch, no proxy), no
 * font service, no telemetry, no "try it" client, no AI agent or MCP, no developer tools.
 */
const QUIET = {
  withDefaultFonts: false,
  telemetry: false,
  hideClientButton: true,
  hideTestRequestButton: true,
  hideDarkModeToggle: true,
  showDeveloperTools: 'never',
  documentDownloadType: 'json',
  agent: { disabled: true },
  mcp: { disabled: true },
  hideSearch: true,
  hideModels: true,
  showSidebar: false,
  defaultOpenAllTags: true,
  forceDarkModeState: 'light',
  // the client-library tabs' muted text falls short of WCAG AA contrast on white
  customCss: '.scalar-app .client-libraries-text, .scalar-app .client-libraries-text-more { color: var(--scalar-color-1) !important; }',
} as const;

/** The OpenAPI 3.1 document rendered by Scalar. */
export function ScalarReference({ document: openapi, label }: { document: Record<string, unknown>; label: string }) {
  const host = useRef<HTMLDivElement>(null);
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    let instance: { destroy(): void } | undefined;
    let live = true;
    loadScalar().then(
      (scalar) => {
        if (!live || !host.current) return;
        instance = scalar.createApiReference(host.current, { ...QUIET, content: openapi });
      },
      (e: unknown) => live && setError((e as Error).message),
    );
    return () => {
      live = false;
      instance?.destroy();
    };
  }, [openapi]);
  return (
    <section className="portal-scalar" aria-label={label}>
      {error ? (
        <p role="alert" className="portal-error">
          {error}
        </p>
      ) : null}
      <div ref={host} />
    </section>
  );
}
