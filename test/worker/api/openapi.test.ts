import { describe, expect, it } from "vitest";
import { harness } from "../../helpers/harness";

describe("GET /openapi.json", () => {
  it("documents every public endpoint with the shared schemas", async () => {
    const h = harness();
    const doc = (await (await h.call("/openapi.json")).json()) as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
      components: { schemas: Record<string, { properties?: Record<string, { type?: string }> }> };
    };
    expect(doc.openapi).toBe("3.1.0");
    const operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(operations.sort()).toEqual(
      [
        "GET /healthz",
        "GET /v1/models",
        "GET /v1/models/{model}",
        "POST /v1/sessions",
        "DELETE /v1/sessions",
        "DELETE /v1/sites/{site_id}/visitors/{visitor_id}",
        "POST /v1/videos",
        "GET /v1/videos",
        "GET /v1/videos/{video_id}",
        "DELETE /v1/videos/{video_id}",
        "POST /v1/videos/{video_id}/remix",
        "GET /v1/videos/{video_id}/content",
        "POST /v1/videos/characters",
        "GET /v1/videos/characters/{character_id}",
        "POST /webhooks/{route_id}",
        "POST /v1/videos/extensions",
        "POST /v1/videos/edits",
        "POST /v1/files",
        "GET /v1/files",
        "GET /v1/files/{file_id}",
        "DELETE /v1/files/{file_id}",
        "GET /v1/files/{file_id}/content",
      ].sort(),
    );
    const video = doc.components.schemas.Video!.properties!;
    expect(video.seconds!.type).toBe("string");
    expect(video.size!.type).toBe("string");
    expect(Object.keys(doc.paths["/v1/videos"]!.post as object)).toContain("requestBody");
    expect(doc.components.schemas.Error).toBeDefined();
  });
});
