// What is sent for the demo's image: the loaded file as it is, or the edited (or too big) canvas encoded once,
// checked against the server's body limit before it goes.
import { megabytes } from './format.js';
import { current, edited, originalImage } from './editor.js';
import { demoPage } from './page.js';

/** The longer side an edited image is scaled down to before it is sent. */
const MAX_SENT_SIDE = 2048;

/** The encoded image for the shown canvas: { canvas, promise }, or null. */
let lastPayload = null;

/** `canvas`, scaled down so that its longer side is at most MAX_SENT_SIDE. */
function scaledForSending(canvas) {
  const scale = MAX_SENT_SIDE / Math.max(canvas.width, canvas.height);
  if (scale >= 1) return canvas;
  const scaled = document.createElement('canvas');
  scaled.width = Math.max(1, Math.round(canvas.width * scale));
  scaled.height = Math.max(1, Math.round(canvas.height * scale));
  const context = scaled.getContext('2d');
  context.imageSmoothingQuality = 'high';
  context.drawImage(canvas, 0, 0, scaled.width, scaled.height);
  return scaled;
}

/**
 * The bytes to send for what is shown: the loaded file as it is when nothing was edited, otherwise the canvas
 * as PNG. Encoded once per shown image, so comparing models and flagging reuse it.
 */
function payload() {
  const canvas = current();
  if (lastPayload && lastPayload.canvas === canvas) return lastPayload.promise;
  const encoded = (source, type, name, quality) => new Promise((resolve, reject) => {
    source.toBlob((blob) => {
      if (blob) resolve({ blob, type, name });
      else reject(new Error('The image could not be encoded for sending.'));
    }, type, quality);
  });
  const original = originalImage();
  let promise;
  if (edited()) promise = encoded(scaledForSending(canvas), 'image/png', 'edited.png');
  else if (original.reencoded) promise = encoded(canvas, 'image/jpeg', 'scaled.jpg', 0.92);
  else promise = Promise.resolve({ blob: original.blob, type: original.type, name: original.name });
  lastPayload = { canvas, promise };
  return promise;
}

/** The encoded image to send ({ blob, type, name }); rejects when it is over the server's body limit. */
export async function checkedPayload() {
  const image = await payload();
  const limit = demoPage().maximumBodyBytes;
  if (limit && image.blob.size > limit) {
    throw new Error(`This image is ${megabytes(image.blob.size)}; the server accepts up to ${megabytes(limit)}. Crop it or use a smaller one.`);
  }
  return image;
}

/** Lets go of the last encoded image (once the editor is cleared). */
export function forgetPayload() {
  lastPayload = null;
}
