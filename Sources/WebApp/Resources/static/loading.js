// Getting an image into the demo's editor: a file chosen, dropped anywhere on the page or pasted, drawn on a canvas
// that is scaled down in the browser when the image is over the server's limits.
import { $ } from './dom.js';
import { showNewImage } from './editor.js';
import { leaveExample } from './expected.js';
import { clearMessages, showError } from './messages.js';
import { demoPage } from './page.js';

/**
 * Shows `blob` in the editor as the new image; resolves to whether it could. `keepExample` keeps the selected
 * example's expected classes (set when the example's own image is loaded); any other image is the user's own.
 */
export async function loadImage(blob, name, { keepExample = false } = {}) {
  clearMessages();
  if (!blob || (blob.type && !blob.type.startsWith('image/'))) {
    showError(`That is not an image (${blob && blob.type ? blob.type : 'unknown type'}). Choose a PNG, JPEG, WebP or GIF file.`);
    return false;
  }
  let picture;
  try {
    picture = await createImageBitmap(blob);
  } catch {
    showError(`This browser cannot read ${name} as an image. Choose a PNG, JPEG, WebP or GIF file.`);
    return false;
  }
  const fit = fittingSize(picture.width, picture.height, blob.size);
  const canvas = document.createElement('canvas');
  canvas.width = fit.width;
  canvas.height = fit.height;
  const context = canvas.getContext('2d');
  context.imageSmoothingQuality = 'high';
  context.drawImage(picture, 0, 0, fit.width, fit.height);
  const size = { width: picture.width, height: picture.height };
  picture.close();

  const original = { blob, type: blob.type || 'application/octet-stream', name };
  // Too big to send as it is: the canvas, scaled down when the pixels are over the limits, is sent as JPEG instead.
  if (fit.scaled || fit.tooManyBytes) {
    original.scaled = fit.scaled ? size : null;
    original.reencoded = true;
  }
  if (!keepExample) leaveExample();
  showNewImage(canvas, original);
  return true;
}

/**
 * The size an image of `width` × `height` pixels and `bytes` bytes is sent at: within the server's megapixels and
 * the page's longest side (scaled: true when smaller than the image), and whether its file is over the body limit.
 */
function fittingSize(width, height, bytes) {
  const page = demoPage();
  const maximumPixels = (page.maximumMegapixels || Infinity) * 1e6;
  const maximumSide = page.maximumSide || Infinity;
  const scale = Math.min(1, maximumSide / Math.max(width, height), Math.sqrt(maximumPixels / (width * height)));
  const tooManyBytes = Boolean(page.maximumBodyBytes && bytes > page.maximumBodyBytes);
  if (scale >= 1) return { width, height, scaled: false, tooManyBytes };
  // Rounded, unless rounding up would end a pixel over a limit.
  let fitted = { width: Math.round(width * scale), height: Math.round(height * scale) };
  if (Math.max(fitted.width, fitted.height) > maximumSide || fitted.width * fitted.height > maximumPixels) {
    fitted = { width: Math.floor(width * scale), height: Math.floor(height * scale) };
  }
  return { width: Math.max(1, fitted.width), height: Math.max(1, fitted.height), scaled: true, tooManyBytes };
}

function loadFirstImage(files, how) {
  const file = Array.from(files || []).find((candidate) => candidate.type.startsWith('image/')) || (files && files[0]);
  if (!file) {
    showError(`No image file was ${how}.`);
    return;
  }
  loadImage(file, file.name || 'image');
}

/** Wires the file input, dropping anywhere on the page (the drop zone shows where) and pasting. */
export function setUpLoading() {
  const fileInput = $('file-input');
  fileInput.addEventListener('change', () => {
    if (fileInput.files.length) loadFirstImage(fileInput.files, 'chosen');
    fileInput.value = '';
  });

  const dropZone = $('drop-zone');
  const carriesFiles = (event) => Array.from(event.dataTransfer ? event.dataTransfer.types : []).includes('Files');
  document.addEventListener('dragover', (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = 'copy';
    dropZone.classList.add('dragging');
  });
  document.addEventListener('dragleave', (event) => {
    if (event.relatedTarget === null) dropZone.classList.remove('dragging');
  });
  document.addEventListener('drop', (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    dropZone.classList.remove('dragging');
    loadFirstImage(event.dataTransfer.files, 'dropped');
  });

  document.addEventListener('paste', (event) => {
    if ($('flag-dialog').open || !event.clipboardData) return;
    const item = Array.from(event.clipboardData.items).find((entry) => entry.kind === 'file' && entry.type.startsWith('image/'));
    if (!item) return;
    event.preventDefault();
    loadImage(item.getAsFile(), `pasted.${item.type.slice('image/'.length)}`);
  });
}
