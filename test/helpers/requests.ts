/** Request bodies the API tests send, built the way OpenAI clients build them. */
import landscapeJpeg from "../fixtures/images/baseline-1280x720.jpg";
import portraitWebp from "../fixtures/images/lossless-720x1280.webp";

export const images = {
  landscapeJpeg: new Uint8Array(landscapeJpeg),
  portraitWebp: new Uint8Array(portraitWebp),
};

export interface CreateFields {
  prompt?: string;
  model?: string;
  seconds?: string;
  size?: string;
  image?: Uint8Array | null;
  imageType?: string;
}

/** A multipart create body; `image: null` leaves the file out. */
export function createForm(fields: CreateFields = {}): FormData {
  const form = new FormData();
  const {
    image = images.landscapeJpeg,
    imageType = "image/jpeg",
    ...text
  } = {
    prompt: "a slow dolly in on the lighthouse",
    ...fields,
  };
  for (const [name, value] of Object.entries(text)) if (value !== undefined) form.set(name, value);
  if (image) form.set("input_reference", new File([image], "photo.jpg", { type: imageType }));
  return form;
}

export const post = (body: FormData | object): RequestInit =>
  body instanceof FormData
    ? { method: "POST", body }
    : {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      };
