/**
 * EVENT_ENDPOINTS as the configuration reads it: a good list resolves each secret (and registers
 * it for redaction); a bad entry fails with a message naming the setting and its index, never a
 * value.
 */
import { describe, expect, it } from "vitest";
import { configFor, parseConfig } from "../../../worker/config";
import { isWebhookSecret } from "../../../worker/events/config";
import { log } from "../../../worker/log";
import { SERVER_KEY } from "../../helpers/harness";
import { captureLogs, endpoint, eventsEnv, HOOK_SECRET, HOOK_URL } from "./outbox-kit";

const parse =
  (endpoints: unknown[], vars: Record<string, string> = {}) =>
  () =>
    parseConfig(eventsEnv(endpoints, vars));

/** The error message `run` throws (it must throw). */
function messageOf(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error("expected a configuration error");
}

describe("EVENT_ENDPOINTS", () => {
  it("resolves each endpoint's secret and defaults, filters kept as given", () => {
    const config = parseConfig(
      eventsEnv([
        endpoint(),
        {
          url: "http://localhost:3000/hooks",
          secret: "OTHER_HOOK_SECRET",
          events: ["video.failed"],
          sites: ["shop"],
          server_keys: ["backend"],
          timeout_ms: 2500,
        },
      ]),
    );
    expect(config.events).toEqual([
      {
        url: HOOK_URL,
        secretName: "HOOK_SECRET",
        secret: HOOK_SECRET,
        events: ["video.completed", "video.failed"],
        sites: null,
        serverKeys: null,
        timeoutMs: 10_000,
      },
      expect.objectContaining({
        url: "http://localhost:3000/hooks",
        secretName: "OTHER_HOOK_SECRET",
        events: ["video.failed"],
        sites: ["shop"],
        serverKeys: ["backend"],
        timeoutMs: 2500,
      }),
    ]);
  });

  it("is an empty list when unset or blank", () => {
    expect(parseConfig(eventsEnv([], { EVENT_ENDPOINTS: "" })).events).toEqual([]);
    expect(parseConfig(eventsEnv([], { EVENT_ENDPOINTS: "  " })).events).toEqual([]);
  });

  it("registers the signing secrets, so no log line carries them", () => {
    const logs = captureLogs();
    try {
      configFor(eventsEnv([endpoint()]));
      log("warn", "upstream_said", { detail: `echo ${HOOK_SECRET} and ${HOOK_SECRET.slice(6)}` });
    } finally {
      logs.restore();
    }
    expect(logs.lines.join("\n")).toContain("upstream_said");
    expect(logs.lines.join("\n")).not.toContain(HOOK_SECRET.slice(6, 18));
  });

  it.each([
    ["not a URL", "hooks.example.com/x"],
    ["another scheme", "ftp://hooks.example.com/x"],
    ["plain http to another host", "http://hooks.example.com/x"],
    ["credentials in the URL", "https://user:pass@hooks.example.com/x"],
    ["a fragment", "https://hooks.example.com/x#frag"],
  ])("refuses a url with %s", (_, url) => {
    const message = messageOf(parse([endpoint(), endpoint({ url })]));
    expect(message).toBe(
      "EVENT_ENDPOINTS[1].url: must be an https:// URL (http:// only for localhost) without credentials or fragment",
    );
  });

  it.each(["http://localhost:8788/hook", "http://127.0.0.1/hook", "http://[::1]:9000/hook"])(
    "allows http to this machine: %s",
    (url) => {
      expect(parseConfig(eventsEnv([endpoint({ url })])).events[0]!.url).toBe(url);
    },
  );

  it("names the secret that is not set, never a value", () => {
    expect(parse([endpoint({ secret: "MISSING_SECRET" })])).toThrow(
      "EVENT_ENDPOINTS[0].secret: the secret MISSING_SECRET is not set",
    );
  });

  it("refuses a secret value where its name belongs, without echoing it", () => {
    const message = messageOf(parse([endpoint({ secret: HOOK_SECRET })]));
    expect(message).toMatch(/^EVENT_ENDPOINTS\[0\]\.secret: a secret's name/);
    expect(message).not.toContain(HOOK_SECRET.slice(6, 14));
  });

  it.each([
    ["no whsec_ prefix", btoa("x".repeat(32))],
    ["too few bytes", `whsec_${btoa("short-secret")}`],
    ["not base64", "whsec_not*base64*at*all*but*long*enough*to*pass"],
  ])("refuses a secret with %s, naming it and not its value", (_, value) => {
    const message = messageOf(parse([endpoint()], { HOOK_SECRET: value }));
    expect(message).toMatch(/^EVENT_ENDPOINTS\[0\]\.secret: HOOK_SECRET must be whsec_ followed/);
    expect(message).not.toContain(value);
  });

  it.each([
    [{ events: [] }, "EVENT_ENDPOINTS[0].events: list the events to receive"],
    [{ events: ["video.created"] }, /^EVENT_ENDPOINTS\[0\]\.events\[0\]: /],
    [{ sites: [] }, "EVENT_ENDPOINTS[0].sites: list at least one"],
    [{ sites: ["shop", "nowhere"] }, "EVENT_ENDPOINTS[0].sites[1]: no site in SITES has this id"],
    [{ server_keys: [] }, "EVENT_ENDPOINTS[0].server_keys: list at least one"],
    [{ server_keys: ["ghost"] }, "EVENT_ENDPOINTS[0].server_keys[0]: no key in SERVER_KEYS"],
    [{ timeout_ms: 100 }, /^EVENT_ENDPOINTS\[0\]\.timeout_ms: /],
    [{ evnets: ["video.failed"] }, /^EVENT_ENDPOINTS\[0\]: /],
  ])("refuses a bad filter or field: %j", (patch, expected) => {
    expect(parse([endpoint(patch)])).toThrow(expected);
  });

  it("refuses a server key's value pasted as its name, without echoing it", () => {
    const message = messageOf(parse([endpoint({ server_keys: [SERVER_KEY] })]));
    expect(message).toBe("EVENT_ENDPOINTS[0].server_keys[0]: no key in SERVER_KEYS has this name");
  });

  it("refuses two entries with one url, and a list that is not JSON", () => {
    expect(parse([endpoint(), endpoint({ secret: "OTHER_HOOK_SECRET" })])).toThrow(
      "EVENT_ENDPOINTS[1].url: the same url as EVENT_ENDPOINTS[0]",
    );
    expect(parse([], { EVENT_ENDPOINTS: "[{" })).toThrow("EVENT_ENDPOINTS: not valid JSON");
    expect(parse([], { EVENT_ENDPOINTS: '{"url":"x"}' })).toThrow(/^EVENT_ENDPOINTS: /);
  });
});

describe("isWebhookSecret", () => {
  it("accepts whsec_ + base64 of 24 to 64 bytes, nothing else", () => {
    const bytes = (n: number) => `whsec_${btoa("k".repeat(n))}`;
    expect([23, 24, 32, 64, 65].map((n) => isWebhookSecret(bytes(n)))).toEqual([
      false,
      true,
      true,
      true,
      false,
    ]);
    expect(isWebhookSecret(HOOK_SECRET)).toBe(true);
    expect(isWebhookSecret(`whsec_${btoa("k".repeat(32))}`.slice(0, -1))).toBe(false);
  });
});
