/**
 * `/v1/files`: upload, retrieve, download and delete an image, each only by its owner; expiry
 * by the worker's clock; only well-formed images are stored; and a create that names the
 * upload as `input_reference.file_id` uses its bytes.
 */
import { describe, expect, it } from "vitest";
import { harness, OTHER_SERVER_KEY, type Harness } from "../../helpers/harness";
import { createForm, images, post } from "../../helpers/requests";

interface FileObject {
  id: string;
  object: string;
  bytes: number;
  created_at: number;
  expires_at: number;
  filename: string;
  purpose: string;
  status: string;
}

interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

function uploadForm(bytes: Uint8Array = images.landscapeJpeg, purpose = "vision"): FormData {
  const form = new FormData();
  form.set("purpose", purpose);
  form.set("file", new File([bytes], "photo.jpg", { type: "image/jpeg" }));
  return form;
}

async function upload(h: Harness, bytes?: Uint8Array): Promise<FileObject> {
  const response = await h.server("/v1/files", { method: "POST", body: uploadForm(bytes) });
  expect(response.status).toBe(200);
  return (await response.json()) as FileObject;
}

const storedFiles = async (h: Harness) =>
  (await h.env.RESULTS.list({ prefix: "v1/files/" })).objects.map((o) => o.key);

describe("/v1/files", () => {
  it("uploads, retrieves, downloads and deletes an image as OpenAI's File object", async () => {
    const h = harness();
    const file = await upload(h);
    const now = Math.floor(h.clock.ms / 1000);
    expect(file).toEqual({
      id: expect.stringMatching(/^file_[0-9a-z]{26}$/),
      object: "file",
      bytes: images.landscapeJpeg.byteLength,
      created_at: now,
      expires_at: now + 86400,
      filename: "photo.jpg",
      purpose: "vision",
      status: "processed",
    });
    expect(await storedFiles(h)).toEqual([`v1/files/${file.id}`]);

    const retrieved = await h.server(`/v1/files/${file.id}`);
    expect(retrieved.headers.get("cache-control")).toBe("no-store");
    expect(await retrieved.json()).toEqual(file);

    const content = await h.server(`/v1/files/${file.id}/content`);
    expect(content.status).toBe(200);
    expect(content.headers.get("content-type")).toBe("image/jpeg");
    expect(new Uint8Array(await content.arrayBuffer())).toEqual(images.landscapeJpeg);

    const deleted = await h.server(`/v1/files/${file.id}`, { method: "DELETE" });
    expect(await deleted.json()).toEqual({ id: file.id, object: "file", deleted: true });
    expect((await h.server(`/v1/files/${file.id}`)).status).toBe(404);
    expect(await storedFiles(h)).toEqual([]);
  });

  it("keeps a long emoji name whole and cannot be sniffed into a page", async () => {
    const h = harness();
    const form = uploadForm();
    const name = `\u202e${"📷".repeat(300)}`; // a bidi override, then 600 UTF-16 units
    form.set("file", new File([images.landscapeJpeg], name, { type: "image/jpeg" }));
    const file = (await (
      await h.server("/v1/files", { method: "POST", body: form })
    ).json()) as FileObject;
    expect(file.filename).toBe("📷".repeat(255)); // override dropped, cut by code point
    const content = await h.server(`/v1/files/${file.id}/content`);
    expect(content.status).toBe(200);
    expect(content.headers.get("x-content-type-options")).toBe("nosniff");
    expect(content.headers.get("content-security-policy")).toBe("default-src 'none'; sandbox");
    await content.arrayBuffer();
  });

  it("answers 503 storage_unavailable when R2 fails, on upload and on read", async () => {
    const h = harness();
    const file = await upload(h);
    const broken = new Proxy(h.env.RESULTS, {
      get: () => () => Promise.reject(new Error("R2 down")),
    });
    h.env.RESULTS = broken;
    for (const [path, init] of [
      ["/v1/files", { method: "POST", body: uploadForm() }],
      [`/v1/files/${file.id}`, {}],
      [`/v1/files/${file.id}/content`, {}],
    ] as const) {
      const response = await h.server(path, init);
      expect(response.status).toBe(503);
      expect(response.headers.get("retry-after")).toBeTruthy();
      expect(((await response.json()) as ErrorBody).error.code).toBe("storage_unavailable");
    }
  });

  it("types the download by its bytes, not by what the upload declared", async () => {
    const h = harness();
    const file = await upload(h, images.portraitWebp); // sent as image/jpeg
    const content = await h.server(`/v1/files/${file.id}/content`);
    expect(content.headers.get("content-type")).toBe("image/webp");
  });

  it("lets a visitor upload and use their own file", async () => {
    const h = harness();
    const { token } = await h.session();
    const uploaded = await h.asVisitor(token, "/v1/files", {
      method: "POST",
      body: uploadForm(),
    });
    expect(uploaded.status).toBe(200);
    const file = (await uploaded.json()) as FileObject;
    expect((await h.asVisitor(token, `/v1/files/${file.id}`)).status).toBe(200);
    // The server key is someone else.
    expect((await h.server(`/v1/files/${file.id}`)).status).toBe(404);
  });

  it("answers someone else's file exactly like a missing one, and never deletes it", async () => {
    const h = harness();
    const file = await upload(h);
    const missing = await h.as(OTHER_SERVER_KEY, "/v1/files/file_0000000000000000000000000a");
    const missingBody = (await missing.json()) as ErrorBody;
    for (const [path, method] of [
      [`/v1/files/${file.id}`, "GET"],
      [`/v1/files/${file.id}/content`, "GET"],
      [`/v1/files/${file.id}`, "DELETE"],
    ] as const) {
      const response = await h.as(OTHER_SERVER_KEY, path, { method });
      expect(response.status, `${method} ${path}`).toBe(404);
      expect(await response.json()).toEqual(missingBody);
    }
    expect(missingBody.error).toMatchObject({ param: "file_id", code: "not_found" });
    expect(await storedFiles(h)).toEqual([`v1/files/${file.id}`]);
    expect((await h.server(`/v1/files/${file.id}`)).status).toBe(200);
  });

  it("says a broken multipart body could not be read", async () => {
    const h = harness();
    const response = await h.server("/v1/files", {
      method: "POST",
      headers: { "content-type": "multipart/form-data; boundary=abc" },
      body: "--abc\r\nnot a part",
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as ErrorBody).error).toMatchObject({
      code: "malformed_body",
      message: expect.stringContaining("multipart"),
    });
  });

  it("needs a token", async () => {
    const h = harness();
    const response = await h.call("/v1/files", { method: "POST", body: uploadForm() });
    expect(response.status).toBe(401);
    expect(await storedFiles(h)).toEqual([]);
  });

  it("reads an expired file as missing and deletes it", async () => {
    const h = harness({ vars: { FILE_TTL_SECONDS: "3600" } });
    const file = await upload(h);
    expect(file.expires_at - file.created_at).toBe(3600);
    h.advance(3599_000);
    expect((await h.server(`/v1/files/${file.id}`)).status).toBe(200);
    h.advance(1000);
    expect((await h.server(`/v1/files/${file.id}/content`)).status).toBe(404);
    expect(await storedFiles(h)).toEqual([]);
    expect((await h.server(`/v1/files/${file.id}`)).status).toBe(404);
  });

  it("refuses anything but a well-formed image with param file, storing nothing", async () => {
    const h = harness();
    const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
    const html = new TextEncoder().encode("<html><script>alert(1)</script></html>");
    const polyglot = new Uint8Array([...signature, ...html]);
    const noFile = new FormData();
    noFile.set("purpose", "vision");
    const textFile = uploadForm();
    textFile.set("file", "not a file");
    const cases: [string, FormData][] = [
      ["a PNG signature followed by HTML", uploadForm(polyglot)],
      ["HTML", uploadForm(html)],
      ["an empty file", uploadForm(new Uint8Array())],
      ["no file", noFile],
      ["a text field as file", textFile],
    ];
    for (const [what, body] of cases) {
      const response = await h.server("/v1/files", { method: "POST", body });
      expect(response.status, what).toBe(400);
      const { error } = (await response.json()) as ErrorBody;
      expect(error.param, what).toBe("file");
      expect(error.type, what).toBe("invalid_request_error");
    }
    expect(await storedFiles(h)).toEqual([]);
  });

  it("refuses an unknown purpose, and a file over the upload limit with 413", async () => {
    const h = harness({ vars: { MAX_UPLOAD_BYTES: "4096" } });
    const purpose = await h.server("/v1/files", {
      method: "POST",
      body: uploadForm(new Uint8Array([1, 2, 3]), "wallpaper"),
    });
    expect(purpose.status).toBe(400);
    expect(((await purpose.json()) as ErrorBody).error.param).toBe("purpose");
    expect(images.landscapeJpeg.byteLength).toBeGreaterThan(4096);
    const large = await h.server("/v1/files", { method: "POST", body: uploadForm() });
    expect(large.status).toBe(413);
    expect(((await large.json()) as ErrorBody).error.param).toBe("file");
    expect(await storedFiles(h)).toEqual([]);
  });
});

describe("POST /v1/videos with input_reference.file_id", () => {
  const json = (fileId: string) =>
    post({ prompt: "slow dolly in", model: "sim", input_reference: { file_id: fileId } });

  function bracketForm(fileId: string): FormData {
    const form = createForm({ image: null });
    form.set("input_reference[file_id]", fileId);
    return form;
  }

  it("uses the caller's upload, as JSON and as bracketed multipart", async () => {
    const h = harness();
    const file = await upload(h, images.portraitWebp);
    for (const init of [json(file.id), post(bracketForm(file.id))]) {
      const response = await h.server("/v1/videos", init);
      expect(response.status).toBe(200);
      // The size comes from the file's pixels, so its bytes were read.
      expect(await response.json()).toMatchObject({ status: "queued", size: "720x1280" });
    }
  });

  it("refuses someone else's, an unknown and an expired file with param input_reference.file_id", async () => {
    const h = harness({ vars: { FILE_TTL_SECONDS: "3600" } });
    const file = await upload(h);
    const refused = async (response: Response) => {
      expect(response.status).toBe(400);
      const { error } = (await response.json()) as ErrorBody;
      expect(error.param).toBe("input_reference.file_id");
      expect(error.message).toContain("POST /v1/files");
    };
    await refused(await h.as(OTHER_SERVER_KEY, "/v1/videos", json(file.id)));
    await refused(await h.as(OTHER_SERVER_KEY, "/v1/videos", post(bracketForm(file.id))));
    await refused(await h.server("/v1/videos", json("file_0000000000000000000000000a")));
    await refused(await h.server("/v1/videos", json("file-abc")));
    expect((await h.server("/v1/videos", json(file.id))).status).toBe(200);
    h.advance(3600_000);
    await refused(await h.server("/v1/videos", json(file.id)));
    expect(await storedFiles(h)).toEqual([]);
  });

  it("holds an uploaded file to the same image checks as a direct upload", async () => {
    const h = harness();
    const file = await upload(h, images.portraitWebp);
    const response = await h.server(
      "/v1/videos",
      post({ prompt: "x", model: "sim", size: "1280x720", input_reference: { file_id: file.id } }),
    );
    expect(response.status).toBe(400);
    expect(((await response.json()) as ErrorBody).error).toMatchObject({
      param: "input_reference",
      code: "image_size_mismatch",
    });
  });
});

describe("GET /v1/files and expires_after", () => {
  const list = async (h: Harness, query = "", key?: string) => {
    const response = key
      ? await h.as(key, `/v1/files${query}`)
      : await h.server(`/v1/files${query}`);
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("no-store");
    return (await response.json()) as {
      object: string;
      data: FileObject[];
      first_id: string | null;
      last_id: string | null;
      has_more: boolean;
    };
  };
  const indexKeys = async (h: Harness) =>
    (await h.env.RESULTS.list({ prefix: "v1/file-index/" })).objects.map((o) => o.key);

  async function three(h: Harness): Promise<FileObject[]> {
    const files: FileObject[] = [];
    for (let i = 0; i < 3; i++) {
      files.push(await upload(h));
      h.advance(2000);
    }
    return files;
  }

  it("lists the caller's files newest first as OpenAI's list, paged by after", async () => {
    const h = harness();
    const [a, b, c] = await three(h);
    await h.as(OTHER_SERVER_KEY, "/v1/files", { method: "POST", body: uploadForm() });
    const all = await list(h);
    expect(all).toEqual({
      object: "list",
      data: [c, b, a],
      first_id: c!.id,
      last_id: a!.id,
      has_more: false,
    });
    const first = await list(h, "?limit=2");
    expect(first.data.map((f) => f.id)).toEqual([c!.id, b!.id]);
    expect(first.has_more).toBe(true);
    const second = await list(h, `?limit=2&after=${first.last_id}`);
    expect(second.data.map((f) => f.id)).toEqual([a!.id]);
    expect(second.has_more).toBe(false);
    expect((await list(h, "?order=asc")).data.map((f) => f.id)).toEqual([a!.id, b!.id, c!.id]);
    expect((await list(h, `?order=asc&after=${a!.id}`)).data.map((f) => f.id)).toEqual([
      b!.id,
      c!.id,
    ]);
    expect((await list(h, "?purpose=batch")).data).toEqual([]);
    expect((await list(h, "", OTHER_SERVER_KEY)).data).toHaveLength(1);
  });

  it("pages one purpose after a file of another purpose, in both orders", async () => {
    const h = harness();
    const [a, b] = await three(h);
    const other = (await (
      await h.server("/v1/files", { method: "POST", body: uploadForm(undefined, "user_data") })
    ).json()) as { id: string };
    h.advance(2000);
    const [d] = await three(h);
    // vision: a b c (other) d e f, oldest first; `other` sits between c and d.
    const asc = await list(h, `?order=asc&purpose=vision&after=${other.id}`);
    expect(asc.data[0]!.id).toBe(d!.id);
    expect(asc.data).toHaveLength(3);
    const desc = await list(h, `?purpose=vision&after=${other.id}`);
    expect(desc.data.map((f) => f.id).slice(-2)).toEqual([b!.id, a!.id]);
    expect(desc.data).toHaveLength(3);
  });

  it("drops deleted and expired files from the list and from the index", async () => {
    const h = harness({ vars: { FILE_TTL_SECONDS: "3600" } });
    const [a, b, c] = await three(h);
    await h.server(`/v1/files/${b!.id}`, { method: "DELETE" });
    expect((await list(h)).data.map((f) => f.id)).toEqual([c!.id, a!.id]);
    expect(await indexKeys(h)).toHaveLength(2);
    h.advance(3600_000 - 5000); // a has expired, c has not
    expect((await list(h)).data.map((f) => f.id)).toEqual([c!.id]);
    expect(await indexKeys(h)).toHaveLength(1);
    expect(await storedFiles(h)).toEqual([`v1/files/${c!.id}`]);
  });

  it("refuses bad list parameters in the envelope", async () => {
    const h = harness();
    for (const query of ["?limit=0", "?limit=10001", "?order=up", "?purpose=nope"]) {
      const response = await h.server(`/v1/files${query}`);
      expect(response.status).toBe(400);
      expect(((await response.json()) as ErrorBody).error.type).toBe("invalid_request_error");
    }
  });

  it("keeps a file for expires_after.seconds, within an hour and FILE_TTL_SECONDS", async () => {
    const h = harness();
    const send = (fields: Record<string, string>) => {
      const form = uploadForm();
      for (const [name, value] of Object.entries(fields)) form.set(name, value);
      return h.server("/v1/files", { method: "POST", body: form });
    };
    const kept = (await (
      await send({ "expires_after[anchor]": "created_at", "expires_after[seconds]": "7200" })
    ).json()) as FileObject;
    expect(kept.expires_at - kept.created_at).toBe(7200);
    const refused: Record<string, string>[] = [
      { "expires_after[anchor]": "created_at", "expires_after[seconds]": "60" },
      { "expires_after[anchor]": "created_at", "expires_after[seconds]": "90000" },
      { "expires_after[anchor]": "last_active_at", "expires_after[seconds]": "7200" },
      { "expires_after[anchor]": "created_at" },
    ];
    for (const fields of refused) {
      const response = await send(fields);
      expect(response.status).toBe(400);
      expect(((await response.json()) as ErrorBody).error.param).toMatch(/^expires_after/);
    }
    expect(await storedFiles(h)).toEqual([`v1/files/${kept.id}`]);
  });
});
