/**
 * Where routes meet adapters: the union of provider option blocks that MODEL_ROUTES may use, and
 * the one function that turns a route into a `Provider`. Adding a provider = one file plus one
 * line in each of the two places below.
 */
import { z } from "zod";
import { createOpenAIProvider, openAIProviderOptions } from "./openai";
import { createSimulatorProvider, simulatorProviderOptions } from "./simulator";
import type { Provider, ProviderContext } from "./types";

export const providerOptions = z.discriminatedUnion("type", [
  simulatorProviderOptions,
  openAIProviderOptions,
]);
export type ProviderOptions = z.infer<typeof providerOptions>;

/** Builds the adapter for a route's provider block. `keys` holds the secrets routes reference. */
export function createProvider(
  options: ProviderOptions,
  ctx: ProviderContext,
  keys: Record<string, string>,
): Provider {
  switch (options.type) {
    case "simulator":
      return createSimulatorProvider(options, ctx);
    case "openai":
      return createOpenAIProvider(options, { ...ctx, apiKey: keys[options.api_key_secret] ?? "" });
  }
}
