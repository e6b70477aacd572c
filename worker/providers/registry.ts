/**
 * Where routes meet adapters: the union of provider option blocks that MODEL_ROUTES may use, and
 * the one function that turns a route into a `Provider`. Adding a provider = its file(s) plus
 * one entry in each of the two places below. Each adapter gets only the secrets its route names.
 */
import { z } from "zod";
import { createFalProvider, falProviderOptions } from "./fal";
import { createOpenAIProvider, openAIProviderOptions } from "./openai";
import { createOpenRouterProvider, openRouterProviderOptions } from "./openrouter";
import { createReplicateProvider, replicateProviderOptions } from "./replicate";
import { createRunwayProvider, runwayProviderOptions } from "./runway";
import { createSimulatorProvider, simulatorProviderOptions } from "./simulator";
import { createVeoProvider, veoProviderOptions } from "./veo";
import type { Provider, ProviderContext } from "./types";

export const providerOptions = z.discriminatedUnion("type", [
  simulatorProviderOptions,
  openAIProviderOptions,
  runwayProviderOptions,
  replicateProviderOptions,
  falProviderOptions,
  veoProviderOptions,
  openRouterProviderOptions,
]);
export type ProviderOptions = z.infer<typeof providerOptions>;

/**
 * Which sources a derived job may come from: any video (uploads and other routes' videos, sent
 * as bytes), only the route's own (Veo continues its own generations), or none.
 */
export type Reach = "any" | "own" | null;

/**
 * What an extension is billed by upstream: the seconds it adds, or the whole stitched result
 * (a model asked for the total, e.g. Wan 2.7's `duration`, generates — and bills — all of it).
 */
export type ExtensionBilling = "segment" | "total";

/** The extension billing of a provider block: what the reservation must cover. */
export function extensionBillingOf(options: ProviderOptions): ExtensionBilling {
  return options.type === "replicate" && options.extend?.duration_is === "total"
    ? "total"
    : "segment";
}

/**
 * Which derived jobs a provider block can start: a route may offer `extend` or `edit` only when
 * its adapter does (worker/config.ts refuses the rest at startup, naming the field).
 */
export function operationsOf(options: ProviderOptions): { extend: Reach; edit: Reach } {
  switch (options.type) {
    case "simulator":
      return { extend: "any", edit: "any" };
    case "veo":
      return { extend: "own", edit: null };
    case "fal":
      return {
        extend: options.extend_path ? "any" : null,
        edit: options.edit_path ? "any" : null,
      };
    case "runway":
      return { extend: null, edit: options.edit_model ? "any" : null };
    case "replicate":
      return { extend: options.extend ? "any" : null, edit: options.edit ? "any" : null };
    default:
      return { extend: null, edit: null };
  }
}

/** Builds the adapter for a route's provider block. `keys` holds the secrets routes reference. */
export function createProvider(
  options: ProviderOptions,
  ctx: ProviderContext,
  keys: Record<string, string>,
): Provider {
  if (options.type === "simulator") return createSimulatorProvider(options, ctx);
  // A webhook secret, when the route names one, is what turns a provider's webhooks on.
  const hook = "webhook_secret_secret" in options ? options.webhook_secret_secret : undefined;
  const secrets = {
    ...ctx,
    apiKey: keys[options.api_key_secret] ?? "",
    ...(hook ? { webhookSecret: keys[hook] ?? "" } : {}),
  };
  switch (options.type) {
    case "openai":
      return createOpenAIProvider(options, secrets);
    case "fal":
      return createFalProvider(options, secrets);
    case "veo":
      return createVeoProvider(options, secrets);
    case "runway":
      return createRunwayProvider(options, secrets);
    case "replicate":
      return createReplicateProvider(options, secrets);
    case "openrouter":
      return createOpenRouterProvider(options, secrets);
  }
}
