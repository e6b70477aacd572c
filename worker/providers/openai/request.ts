/** Request bodies for OpenAI's Videos API, as the official SDKs send them. */
import { IMAGE_EXTENSIONS } from "../kit/bytes";
import type { CreateInput, RemixInput } from "../types";

/** `POST /videos`: multipart; `seconds` is a string ("4"), which the API insists on. */
export function createForm(input: CreateInput): FormData {
  const body = new FormData();
  body.set("prompt", input.prompt);
  body.set("model", input.model);
  body.set("seconds", input.seconds);
  body.set("size", input.size);
  if (input.image) {
    const { bytes, mime } = input.image;
    body.set(
      "input_reference",
      new File([bytes], `input.${IMAGE_EXTENSIONS[mime]}`, { type: mime }),
    );
  }
  return body;
}

/** `POST /videos/{id}/remix`: JSON with the new prompt. */
export function remixBody(input: RemixInput): string {
  return JSON.stringify({ prompt: input.prompt });
}
