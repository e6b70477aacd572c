/**
 * Our own opaque ids (docs/decisions/0001-ids.md): a prefix plus 128 random bits in lowercase
 * Crockford base32. They carry no time, no provider and no owner, so an id leaks nothing and
 * cannot be guessed; the provider's id lives only in the job record.
 */
const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";

function random128(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let bits = 0;
  let value = 0;
  let out = "";
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out + ALPHABET[(value << (5 - bits)) & 31]; // 128 bits → 26 characters
}

export const newVideoId = () => `video_${random128()}`;
export const newVisitorId = () => `vis_${random128()}`;
/** An uploaded file (`/v1/files`); OpenAI's `file-…` ids are not ours, so they never match. */
export const newFileId = () => `file_${random128()}`;

const VIDEO_ID = /^video_[0-9a-hjkmnp-tv-z]{26}$/;
const VISITOR_ID = /^vis_[0-9a-hjkmnp-tv-z]{26}$/;
const FILE_ID = /^file_[0-9a-hjkmnp-tv-z]{26}$/;

export const isVideoId = (value: string) => VIDEO_ID.test(value);
export const isVisitorId = (value: string) => VISITOR_ID.test(value);
export const isFileId = (value: string) => FILE_ID.test(value);

/** The owner string of a visitor's jobs and ledger rows. */
export const visitorOwner = (siteId: string, visitorId: string) => `site:${siteId}:${visitorId}`;
