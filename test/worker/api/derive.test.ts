/**
 * `POST /v1/videos/extensions` and `POST /v1/videos/edits` on the simulator: sources by id (JSON
 * and the Node SDK's multipart `video[id]`) and uploaded MP4s, the stitched `seconds`, pricing by
 * what is generated, idempotency, ownership, and every refusal with its field.
 */
import { describe, expect, it } from "vitest";
import { SIM_DERIVE_ROUTE, SIM_ROUTE } from "../../fixtures/routes";
import { deployment, KLING_EDIT, SECRETS } from "../../helpers/deployment";
import { harness, OTHER_SERVER_KEY, type Harness } from "../../helpers/harness";
import { reservationOf, usageOn } from "../../helpers/ledger";
import { createForm, images, post } from "../../helpers/requests";
import { simulatorMedia } from "../../../worker/providers/simulator/media";
import tiny from "../../fixtures/videos/plain-64x48-2s.mp4";

type Video = {
  id: string;
  status: string;
  model: string;
  seconds: string;
  size: string;
  prompt: string;
  remixed_from_video_id: string | null;
  source: { type: string; video_id: string | null } | null;
};
type ErrorBody = { error: { code: string | null; param: string | null; message: string } };

const PAID = { ...SIM_DERIVE_ROUTE, id: "sim-paid", price_per_second_usd: 0.1 };
const routes = [SIM_DERIVE_ROUTE, SIM_ROUTE, PAID];

const clip = (size: string, seconds: string) =>
  new Uint8Array(simulatorMedia(size, seconds, "video")!.bytes);

async function finished(h: Harness, model = "sim-plus", seconds = "4"): Promise<Video> {
  const created = await h.server("/v1/videos", post(createForm({ model, seconds })));
  expect(created.status).toBe(200);
  const { id } = (await created.json()) as Video;
  h.advance(11_000);
  const video = (await (await h.server(`/v1/videos/${id}`)).json()) as Video;
  expect(video.status).toBe("completed");
  return video;
}

function uploadForm(bytes: Uint8Array, fields: Record<string, string>): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.set(name, value);
  form.set("video", new File([bytes], "clip.mp4", { type: "video/mp4" }));
  return form;
}

async function refusal(response: Response, status = 400) {
  expect(response.status).toBe(status);
  return ((await response.json()) as ErrorBody).error;
}

describe("POST /v1/videos/extensions", () => {
  it("continues one of your videos by id; seconds is the stitched total, media its length", async () => {
    const h = harness({ routes });
    const source = await finished(h);
    const response = await h.server(
      "/v1/videos/extensions",
      post({ video: { id: source.id }, prompt: "the camera keeps rising", seconds: "4" }),
    );
    expect(response.status).toBe(200);
    const extension = (await response.json()) as Video;
    expect(extension).toMatchObject({
      status: "queued",
      model: "sim-plus",
      seconds: "8",
      size: "1280x720",
      remixed_from_video_id: null,
      source: { type: "extension", video_id: source.id },
    });
    h.advance(11_000);
    expect(((await (await h.server(`/v1/videos/${extension.id}`)).json()) as Video).status).toBe(
      "completed",
    );
    const content = await h.server(`/v1/videos/${extension.id}/content`);
    expect(new Uint8Array(await content.arrayBuffer())).toEqual(clip("1280x720", "8"));
  });

  it("reads the Node SDK's multipart bracket field video[id]", async () => {
    const h = harness({ routes });
    const source = await finished(h, "sim-plus", "8");
    const form = new FormData();
    form.set("prompt", "and on into the night");
    form.set("seconds", "8");
    form.set("video[id]", source.id);
    const extension = (await (await h.server("/v1/videos/extensions", post(form))).json()) as Video;
    expect(extension).toMatchObject({ seconds: "16", source: { video_id: source.id } });
  });

  it("extends an uploaded MP4, judged by its structure", async () => {
    const h = harness({ routes });
    const response = await h.server(
      "/v1/videos/extensions",
      post(uploadForm(clip("720x1280", "4"), { prompt: "keep going", seconds: "8" })),
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      model: "sim-plus", // the first route that can, as no model was named
      size: "720x1280",
      seconds: "12",
      source: { type: "extension", video_id: null },
    });
  });

  it("prices the added segment only, and reserves it like a create", async () => {
    const h = harness({ routes });
    const source = await finished(h, "sim-paid", "8");
    const extension = (await (
      await h.server(
        "/v1/videos/extensions",
        post({ video: { id: source.id }, prompt: "more", seconds: "4" }),
      )
    ).json()) as Video;
    expect(extension.seconds).toBe("12");
    expect(await reservationOf(extension.id)).toMatchObject({
      state: "reserved",
      amountMicroUsd: 400_000, // 4 s × $0.10, not 12 s
    });
  });

  it("is idempotent: the same key and body return the first job, another body is a 409", async () => {
    const h = harness({ routes });
    const source = await finished(h);
    const send = (prompt: string) =>
      h.server("/v1/videos/extensions", {
        ...post({ video: { id: source.id }, prompt, seconds: "4" }),
        headers: { "content-type": "application/json", "idempotency-key": "ext-1" },
      });
    const first = (await (await send("rise")).json()) as Video;
    const again = (await (await send("rise")).json()) as Video;
    expect(again.id).toBe(first.id);
    expect((await refusal(await send("fall"), 409)).code).toBe("idempotency_key_reused");
    const list = (await (await h.server("/v1/videos")).json()) as { data: Video[] };
    expect(list.data.map((v) => v.id)).toEqual([first.id, source.id]);
  });

  it("can be remixed where its route allows, and keeps its stitched length", async () => {
    const h = harness({ routes });
    const source = await finished(h);
    const extension = (await (
      await h.server(
        "/v1/videos/extensions",
        post({ video: { id: source.id }, prompt: "rise", seconds: "4" }),
      )
    ).json()) as Video;
    h.advance(11_000);
    await h.server(`/v1/videos/${extension.id}`);
    const remix = await h.server(`/v1/videos/${extension.id}/remix`, post({ prompt: "at dusk" }));
    expect(await remix.json()).toMatchObject({
      seconds: "8",
      remixed_from_video_id: extension.id,
    });
  });

  it("refuses a route that cannot extend, naming the routes that can", async () => {
    const h = harness({ routes });
    const source = await finished(h, "sim");
    const body = { video: { id: source.id }, prompt: "more", seconds: "4" };
    const error = await refusal(await h.server("/v1/videos/extensions", post(body)));
    expect(error).toMatchObject({ param: "video", code: "unsupported_for_model" });
    expect(error.message).toContain("sim cannot extend videos");
    expect(error.message).toContain("sim-plus, sim-paid");
    // With model naming a route that can, the same source works.
    const moved = await h.server("/v1/videos/extensions", post({ ...body, model: "sim-plus" }));
    expect(await moved.json()).toMatchObject({ model: "sim-plus", seconds: "8" });
    const named = await h.server("/v1/videos/extensions", post({ ...body, model: "sim" }));
    expect(await refusal(named)).toMatchObject({ param: "model", code: "unsupported_for_model" });
  });

  it("refuses lengths the route cannot add or make", async () => {
    const h = harness({ routes });
    const source = await finished(h, "sim-plus", "8");
    const send = (seconds: unknown) =>
      h.server("/v1/videos/extensions", post({ video: { id: source.id }, prompt: "on", seconds }));
    expect(await refusal(await send("5"))).toMatchObject({
      param: "seconds",
      code: "unsupported_seconds",
    });
    const long = await h.server(
      "/v1/videos/extensions",
      post(uploadForm(clip("1280x720", "12"), { prompt: "on", seconds: "8" })),
    );
    expect(await refusal(long)).toMatchObject({ param: "seconds", code: "video_too_long" });
    expect((await refusal(await send(8))).param).toBe("seconds");
    const missing = await h.server(
      "/v1/videos/extensions",
      post({ video: { id: source.id }, prompt: "on" }),
    );
    expect((await refusal(missing)).param).toBe("seconds");
  });

  it("refuses an unfinished, someone else's, a deleted or a missing source", async () => {
    const h = harness({ routes });
    const created = await h.server("/v1/videos", post(createForm({ model: "sim-plus" })));
    const { id } = (await created.json()) as Video;
    const body = { video: { id }, prompt: "more", seconds: "4" };
    expect(await refusal(await h.server("/v1/videos/extensions", post(body)))).toMatchObject({
      param: "video",
      code: "video_not_ready",
    });
    h.advance(11_000);
    const theirs = await h.as(OTHER_SERVER_KEY, "/v1/videos/extensions", post(body));
    expect(await refusal(theirs, 404)).toMatchObject({ param: "video", code: "not_found" });
    await h.server(`/v1/videos/${id}`, { method: "DELETE" });
    const deleted = await h.server("/v1/videos/extensions", post(body));
    expect(await refusal(deleted, 404)).toMatchObject({ param: "video", code: "not_found" });
    const none = await h.server("/v1/videos/extensions", post({ prompt: "more", seconds: "4" }));
    expect((await refusal(none)).param).toBe("video");
    const odd = await h.server("/v1/videos/extensions", post({ ...body, video: { id: "../x" } }));
    expect(await refusal(odd)).toMatchObject({ param: "video", code: "invalid_id" });
  });

  it("judges an upload by its structure, not its name or type, and keeps the route's sizes", async () => {
    const h = harness({ routes });
    const send = (bytes: Uint8Array) =>
      h.server("/v1/videos/extensions", post(uploadForm(bytes, { prompt: "on", seconds: "4" })));
    expect(await refusal(await send(images.landscapeJpeg))).toMatchObject({
      param: "video",
      code: "invalid_video",
    });
    const cut = clip("1280x720", "4").slice(0, 20_000);
    expect((await refusal(await send(cut))).code).toBe("invalid_video");
    expect(await refusal(await send(new Uint8Array(tiny)))).toMatchObject({
      param: "video",
      code: "unsupported_size",
    });
  });

  it("refuses an upload over MAX_VIDEO_UPLOAD_BYTES with a 413 naming video", async () => {
    const h = harness({ routes, vars: { MAX_VIDEO_UPLOAD_BYTES: "40000" } });
    const response = await h.server(
      "/v1/videos/extensions",
      post(uploadForm(clip("1280x720", "4"), { prompt: "on", seconds: "4" })),
    );
    expect(await refusal(response, 413)).toMatchObject({
      param: "video",
      code: "request_too_large",
    });
  });

  it("holds a JSON body, which names its source by id, to a small limit", async () => {
    const h = harness({ routes });
    const source = await finished(h);
    const big = { video: { id: source.id }, prompt: "x".repeat(100_000), seconds: "4" };
    const response = await h.server("/v1/videos/extensions", post(big));
    expect(await refusal(response, 413)).toMatchObject({ code: "request_too_large", param: null });
    // A type that only starts like JSON is neither held to that limit nor parsed as JSON.
    for (const type of ["application/jsonx", "application/json5", "application/json-seq"]) {
      const sneaky = await h.server("/v1/videos/extensions", {
        method: "POST",
        headers: { "content-type": type },
        body: JSON.stringify(big),
      });
      expect(await refusal(sneaky)).toMatchObject({ code: "unsupported_content_type" });
    }
  });
});

describe("POST /v1/videos/edits", () => {
  it("edits one of your videos: same size and length, priced by that length", async () => {
    const h = harness({ routes });
    const source = await finished(h, "sim-paid", "8");
    const response = await h.server(
      "/v1/videos/edits",
      post({ video: { id: source.id }, prompt: "make it snow" }),
    );
    expect(response.status).toBe(200);
    const edit = (await response.json()) as Video;
    expect(edit).toMatchObject({
      model: "sim-paid",
      seconds: "8",
      size: "1280x720",
      prompt: "make it snow",
      source: { type: "edit", video_id: source.id },
    });
    expect(await reservationOf(edit.id)).toMatchObject({ amountMicroUsd: 800_000 });
  });

  it("edits an uploaded MP4 and refuses seconds, which an edit keeps", async () => {
    const h = harness({ routes });
    const form = uploadForm(clip("720x1280", "4"), { prompt: "in watercolour" });
    const edit = (await (await h.server("/v1/videos/edits", post(form))).json()) as Video;
    expect(edit).toMatchObject({ seconds: "4", size: "720x1280", source: { video_id: null } });
    h.advance(11_000);
    await h.server(`/v1/videos/${edit.id}`);
    const content = await h.server(`/v1/videos/${edit.id}/content`);
    expect(new Uint8Array(await content.arrayBuffer())).toEqual(clip("720x1280", "4"));

    const withSeconds = uploadForm(clip("720x1280", "4"), { prompt: "x", seconds: "4" });
    expect((await refusal(await h.server("/v1/videos/edits", post(withSeconds)))).param).toBe(
      "seconds",
    );
  });

  it("refuses a source longer than the route edits, and a route that cannot edit", async () => {
    const h = harness({
      routes: [{ ...SIM_DERIVE_ROUTE, edit: { max_source_seconds: 8 } }, SIM_ROUTE],
    });
    const long = uploadForm(clip("1280x720", "12"), { prompt: "snow" });
    expect(await refusal(await h.server("/v1/videos/edits", post(long)))).toMatchObject({
      param: "video",
      code: "video_too_long",
    });
    const source = await finished(h, "sim");
    const error = await refusal(
      await h.server("/v1/videos/edits", post({ video: { id: source.id }, prompt: "snow" })),
    );
    expect(error.code).toBe("unsupported_for_model");
    expect(error.message).toContain("Models that can: sim-plus");
  });

  it("answers a clear 400 when no route can edit at all", async () => {
    const h = harness({ routes: [SIM_ROUTE] });
    const form = uploadForm(clip("1280x720", "4"), { prompt: "snow" });
    const error = await refusal(await h.server("/v1/videos/edits", post(form)));
    expect(error.message).toBe("No model here can edit videos.");
  });
});

describe("extensions and edits on real providers' contract fakes", () => {
  it("Veo extends its own finished video by 7 s: the file URI goes back, seconds is the total", async () => {
    const { h, fakes } = deployment();
    const created = await h.as(
      SECRETS.SERVER_KEY_BACKEND,
      "/v1/videos",
      post(createForm({ model: "veo", seconds: "8" })),
    );
    const { id } = (await created.json()) as Video;
    for (let i = 0; i < 4; i++) {
      h.advance(6000);
      await h.as(SECRETS.SERVER_KEY_BACKEND, `/v1/videos/${id}`);
    }
    const send = (body: object) =>
      h.as(SECRETS.SERVER_KEY_BACKEND, "/v1/videos/extensions", post(body));
    const response = await send({ video: { id }, prompt: "and the tide comes in", seconds: "7" });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ model: "veo", seconds: "15" });
    expect(fakes.veo.extended).toHaveLength(1);
    // Veo cannot take an upload: refused before anything is spent or sent.
    const upload = await h.as(
      SECRETS.SERVER_KEY_BACKEND,
      "/v1/videos/extensions",
      post(uploadForm(clip("1280x720", "8"), { prompt: "on", seconds: "7", model: "veo" })),
    );
    expect(await refusal(upload)).toMatchObject({ param: "video", code: "source_not_supported" });
    expect(fakes.veo.extended).toHaveLength(1);
  });

  it("fal edits an uploaded MP4 through its edit endpoint, uploading the source to fal storage", async () => {
    const { h, fakes } = deployment();
    const response = await h.as(
      SECRETS.SERVER_KEY_BACKEND,
      "/v1/videos/edits",
      post(uploadForm(clip("1280x720", "8"), { prompt: "make it snow", model: "kling-fal" })),
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ model: "kling-fal", seconds: "8" });
    const [job] = [...fakes.fal.jobs.values()];
    expect(job!.endpoint).toBe(KLING_EDIT);
    expect(fakes.fal.files.get(job!.input.video_url as string)?.bytes).toEqual(
      clip("1280x720", "8"),
    );
  });

  it("Runway edits another route's video with Aleph, priced at the edit's own rate", async () => {
    const { h, fakes } = deployment();
    const created = await h.as(
      SECRETS.SERVER_KEY_BACKEND,
      "/v1/videos",
      post(createForm({ model: "sim", seconds: "4" })),
    );
    const { id } = (await created.json()) as Video;
    h.advance(11_000);
    await h.as(SECRETS.SERVER_KEY_BACKEND, `/v1/videos/${id}`);
    const models = (await (await h.as(SECRETS.SERVER_KEY_BACKEND, "/v1/models/runway")).json()) as {
      edit: unknown;
      extend: unknown;
    };
    expect(models).toMatchObject({
      edit: { max_source_seconds: 5, price_per_second_usd: 0.15 },
      extend: null,
    });
    const response = await h.as(
      SECRETS.SERVER_KEY_BACKEND,
      "/v1/videos/edits",
      post({ video: { id }, prompt: "make it snow", model: "runway" }),
    );
    expect(response.status).toBe(200);
    const edit = (await response.json()) as Video;
    expect(edit).toMatchObject({ model: "runway", seconds: "4", size: "1280x720" });
    expect((await reservationOf(edit.id))?.amountMicroUsd).toBe(4 * 150_000);
    expect(fakes.runway.edited).toEqual([
      { model: "gen4_aleph", video: clip("1280x720", "4"), prompt: "make it snow" },
    ]);
    // Runway has no extension API: the route says so, naming one that can.
    const extend = await h.as(
      SECRETS.SERVER_KEY_BACKEND,
      "/v1/videos/extensions",
      post({ video: { id }, prompt: "more", seconds: "5", model: "runway" }),
    );
    expect(await refusal(extend)).toMatchObject({ param: "model", code: "unsupported_for_model" });
  });

  it("Replicate continues and edits with Wan 2.7: the source goes through the Files API", async () => {
    const { h, fakes } = deployment();
    const created = await h.as(
      SECRETS.SERVER_KEY_BACKEND,
      "/v1/videos",
      post(createForm({ model: "wan-replicate", seconds: "5" })),
    );
    expect(created.status).toBe(200);
    const { id } = (await created.json()) as Video;
    let done: Video | undefined;
    for (let i = 0; i < 5 && done?.status !== "completed"; i++) {
      h.advance(6000);
      done = (await (await h.as(SECRETS.SERVER_KEY_BACKEND, `/v1/videos/${id}`)).json()) as Video;
    }
    expect(done?.status).toBe("completed");
    const response = await h.as(
      SECRETS.SERVER_KEY_BACKEND,
      "/v1/videos/extensions",
      post({ video: { id }, prompt: "the tide comes in", seconds: "5" }),
    );
    expect(response.status).toBe(200);
    const extended = (await response.json()) as Video;
    expect(extended).toMatchObject({ model: "wan-replicate", seconds: "10" });
    // Wan is asked for the stitched total and bills all of it: so is the reservation.
    expect((await reservationOf(extended.id))?.amountMicroUsd).toBe(10 * 100_000);
    const extension = [...fakes.replicate.predictions.values()].at(-1)!;
    expect(extension.model).toBe("wan-video/wan-2.7-i2v");
    expect(extension.input).toMatchObject({ duration: 10, resolution: "720p" });
    // The source sent is the finished video's own bytes, as its first clip.
    const first = fakes.replicate.uploads.get(extension.input.first_clip as string);
    const original = await h.as(SECRETS.SERVER_KEY_BACKEND, `/v1/videos/${id}/content`);
    expect(first?.bytes).toEqual(new Uint8Array(await original.arrayBuffer()));

    const edit = await h.as(
      SECRETS.SERVER_KEY_BACKEND,
      "/v1/videos/edits",
      post(uploadForm(clip("1280x720", "8"), { prompt: "make it snow", model: "wan-replicate" })),
    );
    expect(edit.status).toBe(200);
    expect(await edit.json()).toMatchObject({ model: "wan-replicate", seconds: "8" });
    const edited = [...fakes.replicate.predictions.values()].at(-1)!;
    expect(edited.model).toBe("wan-video/wan-2.7-videoedit");
    expect(edited.input).toMatchObject({
      prompt: "make it snow",
      aspect_ratio: "16:9",
      duration: 8,
    });
    expect(fakes.replicate.uploads.get(edited.input.video as string)?.bytes).toEqual(
      clip("1280x720", "8"),
    );
  });

  it("refunds a job whose source could not be read: nothing reached the target provider", async () => {
    const { h, fakes } = deployment();
    const created = await h.as(
      SECRETS.SERVER_KEY_BACKEND,
      "/v1/videos",
      post(createForm({ model: "runway", seconds: "5" })),
    );
    const { id } = (await created.json()) as Video;
    let done: Video | undefined;
    for (let i = 0; i < 6 && done?.status !== "completed"; i++) {
      h.advance(6000);
      done = (await (await h.as(SECRETS.SERVER_KEY_BACKEND, `/v1/videos/${id}`)).json()) as Video;
    }
    expect(done?.status).toBe("completed");
    const before = (await usageOn(h.clock.ms))["key:backend"]!;
    // The source's provider answers a 500 (which, for a create, would leave its outcome unknown)
    // and our own copy cannot be read either.
    fakes.runway.script({
      method: "GET",
      path: /^\/v1\/tasks\//,
      times: 5,
      respond: () => Response.json({ error: "boom" }, { status: 500 }),
    });
    const failing = () => Promise.reject(new Error("R2 is having a moment"));
    Object.assign(h.env, { RESULTS: { ...h.env.RESULTS, get: failing, head: failing } });
    const response = await h.as(
      SECRETS.SERVER_KEY_BACKEND,
      "/v1/videos/edits",
      post({ video: { id }, prompt: "make it snow", model: "kling-fal" }),
    );
    expect(await refusal(response, 503)).toMatchObject({
      message: expect.stringMatching(/source video could not be read/),
    });
    expect((await usageOn(h.clock.ms))["key:backend"]).toEqual(before);
    expect(fakes.fal.jobs.size).toBe(0);
  });
});
