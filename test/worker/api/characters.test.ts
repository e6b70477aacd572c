/**
 * Characters are not offered (docs/decisions/0017-characters.md): both calls answer a typed 400
 * the SDK surfaces as BadRequestError — never a 404 that reads as "no such character" — and only
 * to an authenticated caller.
 */
import OpenAI, { APIError, toFile } from "openai";
import { describe, expect, it } from "vitest";
import { harness, ORIGIN, SERVER_KEY } from "../../helpers/harness";

describe("characters", () => {
  it("answer the SDK's createCharacter and getCharacter with a typed 400", async () => {
    const h = harness();
    const openai = new OpenAI({
      apiKey: SERVER_KEY,
      baseURL: `${ORIGIN}/v1`,
      maxRetries: 0,
      fetch: (url, init) => h.call(String(url).slice(ORIGIN.length), init as RequestInit),
    });
    const video = await toFile(new Uint8Array(64 * 1024), "me.mp4", { type: "video/mp4" });
    for (const call of [
      () => openai.videos.createCharacter({ name: "Ada", video }),
      () => openai.videos.getCharacter("char_123"),
    ]) {
      const error = await call().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
      expect((error as APIError).code).toBe("characters_unsupported");
      expect((error as APIError).message).toMatch(/input_reference/);
    }
  });

  it("ask for a credential first, like every other call", async () => {
    const h = harness();
    for (const [path, method] of [
      ["/v1/videos/characters", "POST"],
      ["/v1/videos/characters/char_123", "GET"],
    ]) {
      const response = await h.call(path!, { method });
      expect(response.status).toBe(401);
    }
  });
});
