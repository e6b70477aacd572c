/** `<still-motion>`: every failure says what happened and offers a way forward. */
import { describe, expect, it } from "vitest";
import type { StillMotionFailedEvent } from "../../widget/events";
import { FakeStillMotionApi } from "./helpers/fake-api";
import { button, mount, reach, submitJob, text, type Mounted } from "./helpers/mount";

const CREATE = { method: "POST", path: /^\/v1\/videos$/ };

function alertText(m: Mounted): string {
  return m.root.querySelector("[role=alert]")?.textContent?.replace(/\s+/g, " ").trim() ?? "";
}

function creates(m: Mounted) {
  return m.api.requests.filter((r) => r.method === "POST" && r.path === "/v1/videos");
}

describe("<still-motion> when the request is refused", () => {
  it("explains a content-policy refusal and returns to the editor to change the prompt", async () => {
    const api = new FakeStillMotionApi().failNext(
      400,
      { message: "Refused by the content policy.", code: "policy_violation" },
      CREATE,
    );
    const m = await mount({ api });
    const failed = new Promise<StillMotionFailedEvent>((resolve) =>
      m.el.addEventListener("still-motion-failed", resolve, { once: true }),
    );
    await submitJob(m);
    await reach(m.el, "failed");
    expect(alertText(m)).toContain("refused this request under its content policy");
    expect(alertText(m)).toContain("Change the prompt or use another photo");
    expect((await failed).problem.kind).toBe("policy");
    button(m, "retry").click();
    await reach(m.el, "editing");
    expect(m.root.querySelector<HTMLTextAreaElement>("#prompt")?.value).toBe(
      "The leaves move in the wind.",
    );
  });

  it("shows the server's reason when the image is rejected", async () => {
    const api = new FakeStillMotionApi().failNext(
      400,
      { message: "input_reference is damaged.", code: "invalid_image", param: "input_reference" },
      CREATE,
    );
    const m = await mount({ api });
    await submitJob(m);
    await reach(m.el, "failed");
    expect(alertText(m)).toContain(
      "The photo or prompt was not accepted: input_reference is damaged.",
    );
    expect(button(m, "retry")).toBeTruthy();
  });

  it("explains a job the provider rejected for its input", async () => {
    const m = await mount({ api: new FakeStillMotionApi({ pollsToComplete: 100 }) });
    await submitJob(m);
    await reach(m.el, "waiting");
    m.api.failJob([...m.api.videos.keys()][0]!, "input_rejected", "The photo shows a real person.");
    await reach(m.el, "failed");
    expect(alertText(m)).toContain("not accepted: The photo shows a real person.");
    button(m, "retry").click();
    await reach(m.el, "editing");
  });

  it("says when to try again after a 429 with Retry-After", async () => {
    const api = new FakeStillMotionApi().failNext(
      429,
      { message: "Slow down.", code: "rate_limit_exceeded" },
      { ...CREATE, retryAfter: 30 },
    );
    const m = await mount({ api });
    await submitJob(m);
    await reach(m.el, "failed");
    expect(alertText(m)).toContain("Try again in 30 seconds");
    expect(creates(m)).toHaveLength(1); // 30 s is too long to wait silently
    // Trying again resends the same request (same Idempotency-Key).
    button(m, "retry").click();
    await reach(m.el, "waiting");
    const [first, second] = creates(m);
    expect(second!.headers.get("idempotency-key")).toBe(first!.headers.get("idempotency-key"));
  });

  it("says the site's budget is used up", async () => {
    const api = new FakeStillMotionApi().failNext(
      402,
      { message: "Budget reached.", code: "budget_exceeded" },
      CREATE,
    );
    const m = await mount({ api });
    await submitJob(m);
    await reach(m.el, "failed");
    expect(alertText(m)).toContain("reached its spending limit");
  });

  it("retries a 503 by itself with the same Idempotency-Key, showing Retrying…", async () => {
    const api = new FakeStillMotionApi().failNext(
      503,
      { message: "Provider unavailable.", code: "provider_unavailable" },
      CREATE,
    );
    const m = await mount({ api });
    await submitJob(m);
    await expect.poll(() => text(m), { timeout: 3000, interval: 10 }).toContain("Retrying…");
    await reach(m.el, "waiting");
    const [first, second] = creates(m);
    expect(second!.headers.get("idempotency-key")).toBe(first!.headers.get("idempotency-key"));
    expect(m.api.videos.size).toBe(1);
  });

  it("retries a dropped connection, showing Retrying…", async () => {
    const api = new FakeStillMotionApi().dropNext(CREATE);
    const m = await mount({ api });
    await submitJob(m);
    await expect.poll(() => text(m), { timeout: 3000, interval: 10 }).toContain("Retrying…");
    await reach(m.el, "completed");
  });

  it("gives up after one retry, says the connection was lost and offers Try again", async () => {
    const api = new FakeStillMotionApi().dropNext({ ...CREATE, times: 2 });
    const m = await mount({ api });
    await submitJob(m);
    await reach(m.el, "failed");
    expect(alertText(m)).toContain("The connection was lost");
    button(m, "retry").click();
    await reach(m.el, "completed");
    expect(m.api.videos.size).toBe(1);
  });

  it("never shows a raw error or stack", async () => {
    const api = new FakeStillMotionApi().failNext(
      500,
      { message: "TypeError at x.js:1:2" },
      CREATE,
    );
    const m = await mount({ api });
    await submitJob(m);
    await reach(m.el, "failed");
    expect(alertText(m)).toContain("Something went wrong on our side");
    expect(text(m)).not.toContain("x.js");
  });

  it("explains when the models cannot be loaded and retries them", async () => {
    const api = new FakeStillMotionApi().failNext(
      500,
      { message: "boom" },
      { method: "GET", path: /^\/v1\/models$/ },
    );
    const m = await mount({ api, until: "failed" });
    expect(alertText(m)).toContain("Something went wrong on our side");
    button(m, "retry").click();
    await reach(m.el, "choosing");
  });
});
