/**
 * Everything that works on the photo — decoding, fitting and the framer element — in one chunk
 * that loads when the visitor first picks a photo, not with the page. It keeps the first
 * download within the 25 KB budget (docs/benchmarks.md).
 */
import "./framer/framer";

export { decodeImage, fitImage } from "./fit";
