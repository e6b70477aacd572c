/**
 * The one sanitiser for upstream text (error messages, failure reasons, unreadable bodies)
 * before it reaches a log line or a caller: the adapter's secrets are masked by the one
 * redaction rule (worker/redact.ts: no four characters of a key survive), and URLs (they may
 * carry signed tokens), credentials and long token-like strings are replaced, control characters
 * dropped, and the result capped at 200 characters.
 */
import { Redactor } from "../../redact";

export function sanitizeUpstreamText(text: string, redact: readonly string[] = []): string {
  const secrets = new Redactor(redact);
  // First on the raw text, so no pattern below can split a secret into pieces it then misses.
  let out = secrets
    .redact(text)
    .replace(/\b[a-z][a-z0-9+.-]*:\/\/\S+/gi, "[url]")
    .replace(/\bdata:\S+/gi, "[data]")
    .replace(/\b(bearer|basic)\s+\S+/gi, "$1 [redacted]")
    .replace(/\b(api[-_]?key|token|secret|password)(["']?\s*[:=]\s*)\S+/gi, "$1$2[redacted]")
    .replace(/\b(sk|pk|rk|whsec|sess)[-_][\w*.-]{4,}/gi, "[redacted]")
    .replace(/(?=[\w+/=.-]*\d)(?=[\w+/=.-]*[a-z])[\w+/=.-]{24,}/gi, "[redacted]")
    .replace(/[\u0000-\u001f\u007f]+/g, " ")
    .replace(/\s+/g, " ")
    .trim();
  // And last, on what is left after the rewrites above.
  out = secrets.redact(out);
  return out.length > 200 ? `${out.slice(0, 199)}…` : out;
}
