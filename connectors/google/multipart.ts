/**
 * multipart/mixed batches of embedded HTTP messages (Google's batch format), both directions. Used by
 * the connector to build requests and read responses, and by the emulator the other way round.
 */

export interface HttpPart {
  /** Content-ID of the part, without angle brackets. */
  contentId?: string;
  /** Request: `METHOD path HTTP/1.1`; response: `HTTP/1.1 status reason`. */
  startLine: string;
  headers: Record<string, string>;
  body: string;
}

const CRLF = '\r\n';

export function boundaryOf(contentType: string | undefined): string | undefined {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType ?? '');
  return m ? (m[1] ?? m[2]) : undefined;
}

export function buildMultipart(parts: HttpPart[], boundary: string): string {
  let out = '';
  for (const p of parts) {
    out += `--${boundary}${CRLF}Content-Type: application/http${CRLF}`;
    if (p.contentId !== undefined) out += `Content-ID: <${p.contentId}>${CRLF}`;
    out += CRLF + p.startLine + CRLF;
    for (const [k, v] of Object.entries(p.headers)) out += `${k}: ${v}${CRLF}`;
    out += CRLF + p.body + CRLF;
  }
  return `${out}--${boundary}--${CRLF}`;
}

function splitHead(text: string): { head: string[]; rest: string } {
  const norm = text.replace(/^(\r?\n)+/, '');
  const m = /\r?\n\r?\n/.exec(norm);
  if (!m) return { head: norm.split(/\r?\n/).filter(Boolean), rest: '' };
  return { head: norm.slice(0, m.index).split(/\r?\n/), rest: norm.slice(m.index + m[0].length) };
}

function headerMap(lines: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    if (i > 0) out[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  return out;
}

/** Parses a multipart/mixed body of application/http parts. Header names come back lower-cased. */
export function parseMultipart(body: string, boundary: string): HttpPart[] {
  const parts: HttpPart[] = [];
  const chunks = body.split(`--${boundary}`);
  for (const chunk of chunks.slice(1)) {
    if (chunk.startsWith('--')) break;
    const outer = splitHead(chunk);
    const outerHeaders = headerMap(outer.head);
    const inner = splitHead(outer.rest);
    const [startLine = '', ...lines] = inner.head;
    const cid = outerHeaders['content-id'];
    parts.push({
      contentId: cid?.replace(/^<|>$/g, ''),
      startLine,
      headers: headerMap(lines),
      body: inner.rest.replace(/\r?\n$/, ''),
    });
  }
  return parts;
}
