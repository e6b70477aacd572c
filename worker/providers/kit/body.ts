/**
 * The one way adapters read an upstream answer's body: with one size limit (a JSON answer is
 * never megabytes; a bigger one is a broken or hostile upstream, not a reason to hold memory)
 * and one meaning for a body that breaks off after the headers: the call may have taken effect,
 * so the outcome is unknown — `timeout`, which keeps any money reserved.
 */
import type { z } from "zod";
import { ProviderError } from "../errors";
import { sanitizeUpstreamText } from "./sanitize";

/** The largest JSON answer read; media never goes through here (it is streamed). */
export const MAX_BODY_BYTES = 1024 * 1024;

/** The text of an answer, and its JSON when it is JSON. Throws `timeout` or `bad_response`. */
export async function readBody(
  response: Response,
  what: string,
): Promise<{ text: string; json: unknown }> {
  const text = await readLimitedText(response, what);
  try {
    return { text, json: JSON.parse(text) };
  } catch {
    return { text, json: undefined };
  }
}

/** Upstream JSON, parsed leniently (providers add fields) but with the fields we need required. */
export async function readJson<T>(
  response: Response,
  schema: z.ZodType<T>,
  what: string,
  redact: readonly string[],
): Promise<T> {
  const { text, json } = await readBody(response, what);
  const parsed = schema.safeParse(json);
  if (parsed.success) return parsed.data;
  throw unreadable(`${what}: ${sanitizeUpstreamText(text.slice(0, 200), redact)}`);
}

export function unreadable(detail: string): ProviderError {
  return new ProviderError(
    "bad_response",
    "The video provider answered something unreadable.",
    detail,
  );
}

async function readLimitedText(response: Response, what: string): Promise<string> {
  const declared = Number(response.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > MAX_BODY_BYTES) {
    await response.body?.cancel();
    throw unreadable(`${what}: body of ${declared} bytes is over the ${MAX_BODY_BYTES} limit`);
  }
  if (!response.body) return "";
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let size = 0;
  let text = "";
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > MAX_BODY_BYTES) {
        await reader.cancel();
        throw unreadable(`${what}: body is over the ${MAX_BODY_BYTES}-byte limit`);
      }
      text += decoder.decode(value, { stream: true });
    }
  } catch (error) {
    if (error instanceof ProviderError) throw error;
    const reason = sanitizeUpstreamText(error instanceof Error ? error.message : String(error));
    throw new ProviderError(
      "timeout",
      "The video provider did not answer in time.",
      `${what}: body read failed: ${reason}`,
    );
  }
  return text + decoder.decode();
}
