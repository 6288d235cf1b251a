import type { IncomingMessage } from 'node:http';

export type BodyResult = { ok: true; raw: Buffer; parsed: unknown } | { ok: false; error: 'payload_too_large' | 'bad_request'; reason: string };

/** The body of a request that has none. */
const NO_BODY: BodyResult = Object.freeze({ ok: true, raw: Buffer.alloc(0), parsed: undefined });

/**
 * Reads and parses a request body up to `limit` bytes: JSON by content type (refused when it
 * does not parse), text as a string, anything else as bytes.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<BodyResult> {
  const declared = req.headers['content-length'];
  // RFC 9112 6.3: a request with neither Content-Length nor Transfer-Encoding has no body. Its
  // stream is not read (waiting for its end took several ticks); the server drains it at the answer.
  if ((declared === undefined || declared === '0') && req.headers['transfer-encoding'] === undefined) return Promise.resolve(NO_BODY);
  if (declared !== undefined && Number(declared) > limit)
    return Promise.resolve({ ok: false, error: 'payload_too_large', reason: `the body exceeds ${limit} bytes` });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (result: BodyResult) => {
      if (done) return;
      done = true;
      req.off('data', onData);
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        finish({ ok: false, error: 'payload_too_large', reason: `the body exceeds ${limit} bytes` });
        req.resume(); // drain and drop the rest
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('error', () => finish({ ok: false, error: 'bad_request', reason: 'the body could not be read' }));
    req.once('end', () => {
      const raw = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      const type = req.headers['content-type'] ?? '';
      if (raw.length === 0) return finish({ ok: true, raw, parsed: undefined });
      if (/^application\/(?:[\w.+-]+\+)?json\b/i.test(type)) {
        try {
          return finish({ ok: true, raw, parsed: JSON.parse(raw.toString('utf8')) });
        } catch {
          return finish({ ok: false, error: 'bad_request', reason: 'the body is not valid JSON' });
        }
      }
      if (/^text\/|^application\/x-www-form-urlencoded/i.test(type)) return finish({ ok: true, raw, parsed: raw.toString('utf8') });
      finish({ ok: true, raw, parsed: raw });
    });
  });
}
