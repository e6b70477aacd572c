/**
 * A request's media type, read one way everywhere: what decides how a body is parsed must be
 * what decides how large it may be. `application/jsonx; …` is not JSON (a prefix test once let
 * such a body past the small JSON limit and into the JSON parser).
 */
export function mediaTypeOf(header: string | null | undefined): string {
  return (header ?? "").split(";", 1)[0]!.trim().toLowerCase();
}

export const isJson = (header: string | null | undefined) =>
  mediaTypeOf(header) === "application/json";

export const isMultipart = (header: string | null | undefined) =>
  mediaTypeOf(header) === "multipart/form-data";
