/**
 * One deployment with a route for EVERY provider kind the registry knows (simulator, openai with
 * bearer and with Azure-style `api-key` auth, fal, veo, runway, replicate, openrouter), each
 * behind its contract fake (test/helpers/fakes/, one file a provider on fakes/base.ts), with a
 * distinctive value for every secret the configuration reads. Shared by the security tests (the
 * secrets sweep and the redirect battery) and, through `ROUTES`, `SECRETS`, `contractFakes` and
 * `fakeFor`, by the provider conformance suite (test/worker/providers/conformance.test.ts).
 */
import { SITEVERIFY_URL } from "../../worker/auth/turnstile";
import { RELAY_PROVIDER, REPLICATE_ROUTE } from "../fixtures/routes";
import { FakeFal, type FakeFalOptions } from "./fakes/fal";
import { FakeOpenAI } from "./fakes/openai";
import {
  FakeReplicate,
  VEO_31_SCHEMA,
  WAN_27_I2V_SCHEMA,
  WAN_27_VIDEOEDIT_SCHEMA,
} from "./fakes/replicate";
import { FakeRunway } from "./fakes/runway";
import { FakeVeo } from "./fakes/veo";
import { FakeOpenRouter, OPENROUTER_MEDIA_ORIGIN } from "./fakes/openrouter";
import { harness, SIM_ROUTE, SITES, testClock } from "./harness";

/** Every secret the configuration below reads, each distinctive enough to find in any text. */
export const SECRETS = {
  RELAY_KEY: "sk-proj-RELAYsecret7Qm2Zx9Lp4Vt8Kr3Nw6By1",
  AZURE_KEY: "3f9c2AZUREsecret8d41b7e6a05c9f2d7e3b8a1c6",
  FAL_KEY: "c41d7e2b-FALsecret-9f3a:5e8b2d7c1a9f4e6b3d8c2a7f1e5b9d4c",
  GEMINI_API_KEY: "AIzaSyGEMINIsecretXq8Wm3Rt6Yp1Lk5Hj9Gf2",
  VEO_WEBHOOK_SECRET: `whsec_${btoa("veo-hook-SECRET-Qz7Xw2Ec9Rv4Tb6Yn1Um")}`,
  RUNWAYML_API_SECRET: "key_RUNWAYsecret4e8c1a9f7d3b6e2c5a8f1d4b7e9c3a6f2d5b8e1c",
  REPLICATE_API_TOKEN: "r8_REPLICATEsecretPo9Iu8Yt7Re6Ws5Qa4Zx3",
  REPLICATE_WEBHOOK_SECRET: `whsec_${btoa("replicate-hook-SECRET-Lk8Jh7Gf6Ds5Ap4")}`,
  SESSION_SECRET: "session-SECRET-Hq8Zr2Lm5Nv9Tb3Xc7Wd1Ke6Fj4Gs0Ay",
  SERVER_KEY_BACKEND: "sk_live_BACKENDsecret_u7Y6t5R4e3W2q1A0s9D8",
  SERVER_KEY_PARTNER: "sk_live_PARTNERsecret_z1X2c3V4b5N6m7L8k9J0",
  TURNSTILE_SECRET_SHOP: "0x4AAAAAAATURNSTILEsecret_Lp9Ok8Ij7Uh6Yg5",
  OPENROUTER_API_KEY: "sk-or-v1-OPENROUTERsecret3b7e1c9a5d2f8b4e6c0a",
  OPENROUTER_WEBHOOK_SECRET: "or-hook-SECRET-Vb5Nm8Qw2Er7Ty4Ui1Op",
} as const;

/** The prompt every create carries: it must never reach a log line. */
export const PROMPT = "Maria Example waves from her balcony at 12 Quiet Lane, Springfield";
export const KLING = "fal-ai/kling-video/v3/standard/image-to-video";
export const VEO_MODEL = "veo-3.1-generate-preview";
/** Kling O1's video edit on fal, under the Kling route's owner/app (docs/providers/fal.md). */
export const KLING_EDIT = "fal-ai/kling-video/o1/video-to-video/edit";

const base = { ...SIM_ROUTE, input_image: "required", prompt_max_chars: 500 };
export const ROUTES = [
  {
    ...base,
    id: "relay",
    label: "Sora 2 (relay)",
    provider: RELAY_PROVIDER,
    upstream_model: "sora-2",
    remix: true,
    price_per_second_usd: 0.1,
  },
  {
    ...base,
    id: "azure",
    label: "Sora 2 (Azure-style host)",
    provider: {
      type: "openai",
      base_url: "https://azure.example.test/openai/v1",
      api_key_secret: "AZURE_KEY",
      auth: "api-key",
      max_retries: 0,
    },
    upstream_model: "sora-2",
    remix: true,
    price_per_second_usd: 0.1,
  },
  {
    ...base,
    id: "kling-fal",
    label: "Kling (fal)",
    provider: {
      type: "fal",
      model_path: KLING,
      image_field: "start_image_url",
      durations: [5, 10],
      audio_field: "generate_audio",
      edit_path: KLING_EDIT,
      max_retries: 0,
    },
    upstream_model: KLING,
    seconds: ["5", "10"],
    default_seconds: "5",
    remix: false,
    edit: { max_source_seconds: 10 },
    audio: true,
    price_per_second_usd: 0.084,
  },
  {
    ...base,
    id: "veo",
    label: "Veo 3.1 (Gemini API)",
    provider: {
      type: "veo",
      api_key_secret: "GEMINI_API_KEY",
      webhook_secret_secret: "VEO_WEBHOOK_SECRET",
      max_retries: 0,
    },
    upstream_model: VEO_MODEL,
    remix: false,
    // Veo 3.1 continues its own videos by 7 s, to 148 s in all (docs/providers/veo.md).
    extend: { seconds: ["7"], max_total_seconds: 148 },
    audio: true,
    price_per_second_usd: 0.4,
  },
  {
    ...base,
    id: "runway",
    label: "Gen-4.5 (Runway)",
    provider: { type: "runway", max_retries: 0, edit_model: "gen4_aleph" },
    upstream_model: "gen4.5",
    seconds: ["5", "10"],
    default_seconds: "5",
    remix: false,
    // Aleph reads 5 s of its source and bills 15 credits a second (docs/providers/runway.md §4a).
    edit: { max_source_seconds: 5, price_per_second_usd: 0.15 },
    price_per_second_usd: 0.12,
  },
  {
    ...base,
    id: "veo-replicate",
    label: "Veo 3.1 (Replicate)",
    provider: { ...REPLICATE_ROUTE.provider, max_retries: 0 },
    upstream_model: "google/veo-3.1",
    remix: false,
    audio: true,
    price_per_second_usd: 0.4,
  },
  {
    ...base,
    id: "wan-replicate",
    label: "Wan 2.7 (Replicate)",
    // One family on one host: created and continued by wan-2.7-i2v, edited by its videoedit.
    provider: {
      type: "replicate",
      model: "wan-video/wan-2.7-i2v",
      image_field: "first_frame",
      durations: [5, 10],
      resolution_field: "resolution",
      resolutions: ["720p", "1080p"],
      max_retries: 0,
      extend: { model: "wan-video/wan-2.7-i2v", resolution_field: "resolution" },
      edit: {
        model: "wan-video/wan-2.7-videoedit",
        aspect_field: "aspect_ratio",
        duration_field: "duration",
      },
    },
    upstream_model: "wan-video/wan-2.7-i2v",
    seconds: ["5", "10"],
    default_seconds: "5",
    remix: false,
    extend: { seconds: ["5"], max_total_seconds: 15 },
    edit: { max_source_seconds: 10 },
    price_per_second_usd: 0.1,
  },
  {
    ...base,
    id: "veo-openrouter",
    label: "Veo 3.1 (OpenRouter)",
    provider: {
      type: "openrouter",
      model: "google/veo-3.1",
      durations: [4, 8],
      sizes: ["1280x720", "720x1280"],
      generate_audio: false,
      webhook_secret_secret: "OPENROUTER_WEBHOOK_SECRET",
      max_retries: 0,
    },
    upstream_model: "google/veo-3.1",
    remix: false,
    price_per_second_usd: 0.4,
  },
  { ...base, id: "sim", remix: true, price_per_second_usd: 0.01 },
];

export const KLING_INPUTS: FakeFalOptions["inputs"] = {
  prompt: "string",
  start_image_url: "image",
  duration: ["3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15"],
  generate_audio: "boolean",
  negative_prompt: "string",
};

export const SHOP = {
  ...SITES[0]!,
  turnstile: { secret_secret: "TURNSTILE_SECRET_SHOP", site_key: "0x4AAAAAAAshopSiteKey" },
};
export const BLOG = SITES[1]!;
export const SHOP_ORIGIN = SHOP.origins[0]!;

const ALLOW = { limit: async () => ({ success: true }) };

/** Every provider route's contract fake, as the deployment (and the conformance suite) runs it. */
export function contractFakes(now: () => number) {
  return {
    relay: new FakeOpenAI({ apiKey: SECRETS.RELAY_KEY, pollsToComplete: 3, now }),
    azure: new FakeOpenAI({
      apiKey: SECRETS.AZURE_KEY,
      auth: "api-key",
      baseUrl: "https://azure.example.test/openai/v1",
      pollsToComplete: 3,
      now,
    }),
    fal: new FakeFal({
      apiKey: SECRETS.FAL_KEY,
      modelPath: KLING,
      inputs: KLING_INPUTS,
      required: ["prompt", "start_image_url"],
      endpoints: {
        [KLING_EDIT]: {
          inputs: { prompt: "string", video_url: "video", keep_audio: "boolean" },
          required: ["prompt", "video_url"],
        },
      },
    }),
    veo: new FakeVeo({ apiKey: SECRETS.GEMINI_API_KEY, pollsToComplete: 3 }),
    runway: new FakeRunway({ apiKey: SECRETS.RUNWAYML_API_SECRET }),
    replicate: new FakeReplicate({
      apiKey: SECRETS.REPLICATE_API_TOKEN,
      models: {
        "google/veo-3.1": VEO_31_SCHEMA,
        "wan-video/wan-2.7-i2v": WAN_27_I2V_SCHEMA,
        "wan-video/wan-2.7-videoedit": WAN_27_VIDEOEDIT_SCHEMA,
      },
      pollsToComplete: 3,
      now,
    }),
    openrouter: new FakeOpenRouter({ apiKey: SECRETS.OPENROUTER_API_KEY, now }),
  };
}

export type ContractFakes = ReturnType<typeof contractFakes>;

/** The hosts each fake answers for: its API and the hosts it serves media from. */
const FAKE_HOSTS: Record<keyof ContractFakes, (fakes: ContractFakes) => string[]> = {
  relay: () => ["relay.example.test"],
  azure: () => ["azure.example.test"],
  fal: () => ["queue.fal.run", "rest.alpha.fal.ai", "v3.fal.media"],
  veo: () => ["generativelanguage.googleapis.com", "video-downloads.googleusercontent.com"],
  runway: (f) => ["api.dev.runwayml.com", f.runway.cdnHost],
  replicate: () => ["api.replicate.com", "replicate.delivery"],
  openrouter: () => ["openrouter.ai", new URL(OPENROUTER_MEDIA_ORIGIN).host],
};

/** The fake that answers requests to `host`, or null when none does. */
export function fakeFor(fakes: ContractFakes, host: string): { fetch: typeof fetch } | null {
  const name = (Object.keys(FAKE_HOSTS) as Array<keyof ContractFakes>).find((n) =>
    FAKE_HOSTS[n](fakes).includes(host),
  );
  return name ? fakes[name] : null;
}

export interface DeploymentOptions {
  /** Sees every outbound request first; a Response it returns is the answer (e.g. a redirect). */
  intercept?: (request: Request) => Promise<Response | null> | Response | null | undefined;
}

export function deployment(options: DeploymentOptions = {}) {
  const clock = testClock();
  const now = () => clock.ms;
  const fakes = contractFakes(now);
  const siteverifyCalls: URLSearchParams[] = [];
  /** Siteverify: token "fail-secret" makes Cloudflare refuse our secret, "outage" a 500. */
  const siteverify = async (request: Request): Promise<Response> => {
    const form = new URLSearchParams(await request.text());
    siteverifyCalls.push(form);
    const token = form.get("response");
    if (token === "outage") {
      return new Response(`internal error for secret=${form.get("secret")}`, { status: 500 });
    }
    if (form.get("secret") !== SECRETS.TURNSTILE_SECRET_SHOP || token === "fail-secret") {
      return Response.json({ success: false, "error-codes": ["invalid-input-secret"] });
    }
    if (token === "bad-token") {
      return Response.json({ success: false, "error-codes": ["invalid-input-response"] });
    }
    return Response.json({
      success: true,
      "error-codes": [],
      challenge_ts: new Date().toISOString(),
      hostname: "shop.example",
      action: "stillmotion-session",
    });
  };
  const outbound: string[] = [];
  /** One fake `fetch` for the whole deployment, routing by host. */
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const request = new Request(input, init);
    const { host } = new URL(request.url);
    outbound.push(`${request.method} ${request.url}`);
    const intercepted = await options.intercept?.(request);
    if (intercepted) return intercepted;
    if (request.url === SITEVERIFY_URL) return siteverify(request);
    const fake = fakeFor(fakes, host);
    if (fake) return fake.fetch(request);
    throw new Error(`no fake for ${request.method} ${request.url}`);
  };
  const upstream = followingLikeTheRuntime(fetch);
  const h = harness({
    clock,
    routes: ROUTES,
    fetch: upstream,
    vars: {
      SITES: JSON.stringify([SHOP, BLOG]),
      SESSION_SECRET: SECRETS.SESSION_SECRET,
      SERVER_KEYS: JSON.stringify({
        backend: SECRETS.SERVER_KEY_BACKEND,
        partner: SECRETS.SERVER_KEY_PARTNER,
      }),
      RELAY_KEY: SECRETS.RELAY_KEY,
      AZURE_KEY: SECRETS.AZURE_KEY,
      FAL_KEY: SECRETS.FAL_KEY,
      GEMINI_API_KEY: SECRETS.GEMINI_API_KEY,
      VEO_WEBHOOK_SECRET: SECRETS.VEO_WEBHOOK_SECRET,
      RUNWAYML_API_SECRET: SECRETS.RUNWAYML_API_SECRET,
      REPLICATE_API_TOKEN: SECRETS.REPLICATE_API_TOKEN,
      REPLICATE_WEBHOOK_SECRET: SECRETS.REPLICATE_WEBHOOK_SECRET,
      TURNSTILE_SECRET_SHOP: SECRETS.TURNSTILE_SECRET_SHOP,
      OPENROUTER_API_KEY: SECRETS.OPENROUTER_API_KEY,
      OPENROUTER_WEBHOOK_SECRET: SECRETS.OPENROUTER_WEBHOOK_SECRET,
      SPEND_CAP_GLOBAL_USD_PER_DAY: "1000",
      SPEND_CAP_SITE_USD_PER_DAY: "1000",
      SPEND_CAP_VISITOR_USD_PER_DAY: "1000",
      SPEND_CAP_VISITOR_VIDEOS_PER_DAY: "1000",
      SPEND_CAP_SERVER_KEY_USD_PER_DAY: "1000",
    },
  });
  // Burst brakes always allow here: this test makes many creates in one (fake) minute, and the
  // brakes have their own tests (test/worker/api/rate-limits.test.ts).
  Object.assign(h.env, {
    SESSIONS_PER_IP: ALLOW,
    CREATES_PER_IP: ALLOW,
    CREATES_PER_VISITOR: ALLOW,
    CREATES_PER_SERVER_KEY: ALLOW,
  });
  /** `fetch` is the deployment's outbound path, for tests that drive an adapter directly. */
  return { h, fakes, outbound, siteverifyCalls, fetch: upstream };
}

export type Deployment = ReturnType<typeof deployment>;

/** The provider routes, with the seconds each accepts and the key its upstream checks. */
export const PROVIDERS = [
  { model: "relay", seconds: "4", key: SECRETS.RELAY_KEY },
  { model: "azure", seconds: "4", key: SECRETS.AZURE_KEY },
  { model: "kling-fal", seconds: "5", key: SECRETS.FAL_KEY },
  { model: "veo", seconds: "4", key: SECRETS.GEMINI_API_KEY },
  { model: "runway", seconds: "5", key: SECRETS.RUNWAYML_API_SECRET },
  { model: "veo-replicate", seconds: "4", key: SECRETS.REPLICATE_API_TOKEN },
  { model: "veo-openrouter", seconds: "4", key: SECRETS.OPENROUTER_API_KEY },
] as const;

/**
 * What the Workers runtime does with a request left at `redirect: "follow"` (the default): it
 * follows 3xx itself, dropping only `Authorization` across origins and re-sending the body on
 * 307/308. The fakes are plain functions, so without this a test could not see where a request
 * the adapter did not keep on `manual` would end up.
 */
export function followingLikeTheRuntime(fetchFn: typeof fetch): typeof fetch {
  return async (input, init) => {
    let request = new Request(input, init);
    for (let hop = 0; hop < 20; hop++) {
      const follows = request.redirect === "follow";
      const copy = follows ? request.clone() : request;
      const response = await fetchFn(request);
      const location = response.headers.get("location");
      if (!follows || ![301, 302, 303, 307, 308].includes(response.status) || !location) {
        return response;
      }
      const target = new URL(location, copy.url);
      const headers = new Headers(copy.headers);
      if (target.origin !== new URL(copy.url).origin) headers.delete("authorization");
      const keep = response.status === 307 || response.status === 308;
      request = keep
        ? new Request(target, { method: copy.method, headers, body: copy.body })
        : new Request(target, { method: copy.method === "HEAD" ? "HEAD" : "GET", headers });
    }
    throw new Error("redirect loop");
  };
}
