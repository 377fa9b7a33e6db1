/**
 * The links of an RFC 8288 `Link` header by relation type, e.g. GitHub's
 * `<https://api.github.com/repositories/1/issues?page=2>; rel="next", <…>; rel="last"`.
 * A link with several relation types (`rel="next last"`) is filed under each; the first
 * link of a type wins. Malformed entries are skipped.
 */
export function parseLinkHeader(header: string | null | undefined): Map<string, string> {
  const links = new Map<string, string>();
  if (!header) return links;
  let i = 0;
  while (i < header.length) {
    // A link starts at '<'; anything before it (separators, garbage) is skipped.
    const open = header.indexOf('<', i);
    if (open < 0) break;
    const close = header.indexOf('>', open + 1);
    if (close < 0) break;
    const uri = header.slice(open + 1, close).trim();
    // Parameters run to the next comma outside quotes.
    let j = close + 1;
    let quoted = false;
    for (; j < header.length; j++) {
      const ch = header[j];
      if (ch === '"') quoted = !quoted;
      else if (ch === ',' && !quoted) break;
    }
    for (const param of splitParams(header.slice(close + 1, j))) {
      const p = /^\s*rel\s*=\s*(?:"([^"]*)"|(\S+))\s*$/i.exec(param);
      if (!p) continue;
      for (const rel of (p[1] ?? p[2] ?? '').toLowerCase().split(/\s+/)) {
        if (rel && uri && !links.has(rel)) links.set(rel, uri);
      }
    }
    i = j + 1;
  }
  return links;
}

function splitParams(text: string): string[] {
  const out: string[] = [];
  let current = '';
  let quoted = false;
  for (const ch of text) {
    if (ch === '"') quoted = !quoted;
    if (ch === ';' && !quoted) {
      out.push(current);
      current = '';
    } else current += ch;
  }
  out.push(current);
  return out;
}

/** A positive integer query parameter of a URL (GitHub's `page` in a next link), or undefined. */
export function pageNumberOf(url: string | undefined, param = 'page'): number | undefined {
  if (!url || !URL.canParse(url)) return undefined;
  const value = new URL(url).searchParams.get(param);
  return value && /^[1-9]\d{0,8}$/.test(value) ? Number(value) : undefined;
}
