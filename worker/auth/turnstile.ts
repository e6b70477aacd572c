/**
 * Cloudflare Turnstile, server side: a token from the browser proves nothing until siteverify
 * says so. Framework-free, with `fetch` injected, so it is tested without Hono or the network.
 * https://developers.cloudflare.com/turnstile/get-started/server-side-validation/
 */
import { z } from "zod";

export const SITEVERIFY_URL = "https://challenges.cloudflare.com/turnstile/v0/siteverify";

/** Cloudflare's always-pass / always-fail / already-spent test secrets. */
const TEST_SECRET = /^[123]x0{30,}AA$/;

export const isTestSecret = (secret: string) => TEST_SECRET.test(secret);

const SiteverifyResponse = z.object({
  success: z.boolean(),
  "error-codes": z.array(z.string()).default([]),
  hostname: z.string().optional(),
  action: z.string().optional(),
});

export interface TurnstileCheck {
  secret: string;
  token: string;
  /** The visitor's IP (`cf-connecting-ip`), an extra signal for Cloudflare. */
  remoteIp?: string;
  /** The page's hostname: a token solved on another site with the same site key is refused. */
  hostname: string;
  /** The action the widget was rendered with: a token minted for another form is refused. */
  action: string;
  /**
   * Skips the hostname and action checks. Only for Cloudflare's test secrets outside production:
   * they answer for a fixed hostname of their own, not the page's.
   */
  lenient?: boolean;
}

export type TurnstileVerdict =
  { ok: true } | { ok: false; reason: "rejected" | "hostname" | "action"; errorCodes: string[] };

/** Siteverify could not give an answer (network, 5xx, unreadable, its own internal error). */
export class TurnstileUnavailable extends Error {
  override readonly name = "TurnstileUnavailable";
}

/** Cloudflare refused our secret: the operator's configuration is wrong, not the visitor. */
export class TurnstileMisconfigured extends Error {
  override readonly name = "TurnstileMisconfigured";
}

const SECRET_ERRORS = new Set(["missing-input-secret", "invalid-input-secret"]);
const ATTEMPTS = 2;
const TIMEOUT_MS = 5000;

/**
 * Verifies one token. An outage is retried once with the same `idempotency_key`, which lets
 * siteverify answer a repeated check of a single-use token instead of calling it spent.
 */
export async function verifyTurnstile(
  check: TurnstileCheck,
  fetchFn: typeof fetch,
): Promise<TurnstileVerdict> {
  const form = new URLSearchParams({
    secret: check.secret,
    response: check.token,
    idempotency_key: crypto.randomUUID(),
  });
  if (check.remoteIp) form.set("remoteip", check.remoteIp);
  for (let attempt = 1; ; attempt++) {
    try {
      return judge(check, await siteverify(form, fetchFn));
    } catch (error) {
      if (!(error instanceof TurnstileUnavailable) || attempt >= ATTEMPTS) throw error;
    }
  }
}

async function siteverify(form: URLSearchParams, fetchFn: typeof fetch) {
  let response: Response;
  try {
    response = await fetchFn(SITEVERIFY_URL, {
      method: "POST",
      body: form,
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (error) {
    throw new TurnstileUnavailable(`siteverify unreachable: ${String(error)}`);
  }
  if (!response.ok) throw new TurnstileUnavailable(`siteverify answered HTTP ${response.status}`);
  const parsed = SiteverifyResponse.safeParse(await response.json().catch(() => undefined));
  if (!parsed.success) throw new TurnstileUnavailable("siteverify sent an unreadable answer");
  return parsed.data;
}

function judge(
  check: TurnstileCheck,
  answer: z.infer<typeof SiteverifyResponse>,
): TurnstileVerdict {
  const errorCodes = answer["error-codes"];
  if (!answer.success) {
    if (errorCodes.some((code) => SECRET_ERRORS.has(code))) {
      throw new TurnstileMisconfigured(`siteverify refused the secret: ${errorCodes.join(", ")}`);
    }
    if (errorCodes.includes("internal-error")) {
      throw new TurnstileUnavailable("siteverify reported an internal error");
    }
    return { ok: false, reason: "rejected", errorCodes };
  }
  if (check.lenient) return { ok: true };
  if (answer.hostname?.toLowerCase() !== check.hostname.toLowerCase()) {
    return { ok: false, reason: "hostname", errorCodes };
  }
  if (answer.action !== check.action) return { ok: false, reason: "action", errorCodes };
  return { ok: true };
}
