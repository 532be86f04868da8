// The demo's image on its canvas: the image as loaded, its edits (rotate, flip, crop by pointer or arrow keys) with
// Undo and Reset, and a notice to the rest of the page whenever the image shown changes. Loading is loading.js's job.
import { $ } from './dom.js';
import { megabytes } from './format.js';
import { demoPage } from './page.js';

/** Edits kept for Undo; the loaded image itself is always kept, so Reset works whatever the depth. */
const MAX_HISTORY = 16;

/** The image as loaded: its bytes, type and a name for uploads (see loading.js), or null. */
let original = null;
/** Canvases, the loaded image first; the last one is what is shown and sent. */
let history = [];
/** The crop rectangle in image pixels of the shown canvas, or null. */
let selection = null;
/** Counts the images loaded and cleared, so that an answer about an image no longer shown is dropped. */
let loads = 0;
/** Called with { newImage } after every change of what is shown. */
const listeners = [];

/** The canvas shown (and sent), or undefined. */
export const current = () => history[history.length - 1];
export const edited = () => history.length > 1;
export const originalImage = () => original;

/**
 * Calls `listener({ newImage })` whenever the image shown changes: `newImage` is true when another image was loaded
 * or the editor was cleared (answers about the old one no longer apply), false after an edit.
 */
export function onImageChange(listener) {
  listeners.push(listener);
}

/** A function that answers whether the image loaded now is still loaded (edits keep it, loading another does not). */
export function watchImage() {
  const load = loads;
  return () => load === loads;
}

/** Shows `canvas`, just loaded from `loaded` (its bytes, type, name), as the new image to edit. */
export function showNewImage(canvas, loaded) {
  original = loaded;
  history = [canvas];
  selection = null;
  loads += 1;
  $('editor').hidden = false;
  draw({ newImage: true });
}

/** Forgets the image: the editor is hidden and empty. */
export function clearImage() {
  original = null;
  history = [];
  selection = null;
  loads += 1;
  $('editor').hidden = true;
  draw({ newImage: true });
}

/** Shows the current canvas, what is known about it and the tools that apply, then tells the listeners. */
export function draw({ newImage = false } = {}) {
  const source = current();
  const canvas = $('canvas');
  const hasImage = Boolean(source);
  if (hasImage) {
    canvas.width = source.width;
    canvas.height = source.height;
    canvas.getContext('2d').drawImage(source, 0, 0);
    const how = edited() ? 'edited, sent as PNG' : sentAs(original);
    $('image-info').textContent = `${original.name} · ${source.width} × ${source.height} px · ${how}`;
    canvas.setAttribute('aria-label', `The image to classify, ${source.width} by ${source.height} pixels${edited() ? ', edited' : ''}`);
  }
  $('drop-zone').classList.toggle('compact', hasImage);
  drawSelection();
  for (const tool of ['rotate-left', 'rotate-right', 'flip-horizontal', 'flip-vertical', 'crop-square']) $(tool).disabled = !hasImage;
  $('undo').disabled = !edited();
  $('reset').disabled = !edited();
  for (const listener of listeners) listener({ newImage });
}

/** How an unedited image is sent: "original PNG, sent as it is", or why and how it was made smaller. */
function sentAs(loaded) {
  const type = loaded.type.replace('image/', '').toUpperCase();
  if (loaded.scaled) {
    return `scaled from ${loaded.scaled.width}×${loaded.scaled.height} to ${current().width}×${current().height} to fit the server’s limits, sent as JPEG`;
  }
  if (loaded.reencoded) return `the ${type} file is over ${megabytes(demoPage().maximumBodyBytes)}, so it is sent re-encoded as JPEG`;
  return `original ${type}, sent as it is`;
}

// ---- Edits ----------------------------------------------------------------------------------------------------

/** Paints the shown image onto a new `width` × `height` canvas with `paint(context, image)`; that canvas is then shown. */
function edit(width, height, paint) {
  const source = current();
  if (!source) return;
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  paint(canvas.getContext('2d'), source);
  history.push(canvas);
  if (history.length > MAX_HISTORY) history.splice(1, 1);
  selection = null;
  draw();
}

function rotate(clockwise) {
  const source = current();
  edit(source.height, source.width, (context, image) => {
    if (clockwise) context.translate(image.height, 0);
    else context.translate(0, image.width);
    context.rotate((clockwise ? 1 : -1) * Math.PI / 2);
    context.drawImage(image, 0, 0);
  });
}

function flip(horizontal) {
  const source = current();
  edit(source.width, source.height, (context, image) => {
    if (horizontal) context.setTransform(-1, 0, 0, 1, image.width, 0);
    else context.setTransform(1, 0, 0, -1, 0, image.height);
    context.drawImage(image, 0, 0);
  });
}

function crop(rectangle) {
  const { x, y, width, height } = rectangle;
  edit(width, height, (context, image) => context.drawImage(image, x, y, width, height, 0, 0, width, height));
}

function cropCentreSquare() {
  const source = current();
  const side = Math.min(source.width, source.height);
  crop({ x: Math.floor((source.width - side) / 2), y: Math.floor((source.height - side) / 2), width: side, height: side });
}

// ---- Crop selection: drag with a pointer, or arrow keys on the focused image -------------------------------------

function drawSelection() {
  const source = current();
  const cropBox = $('crop-box');
  $('crop-apply').disabled = !selection;
  cropBox.hidden = !selection;
  if (!selection || !source) return;
  const box = cropBox.style;
  box.left = `${(selection.x / source.width) * 100}%`;
  box.top = `${(selection.y / source.height) * 100}%`;
  box.width = `${(selection.width / source.width) * 100}%`;
  box.height = `${(selection.height / source.height) * 100}%`;
}

/** The image pixel under a pointer event, clamped to the image. */
function imagePoint(event) {
  const bounds = $('canvas').getBoundingClientRect();
  const source = current();
  const x = ((event.clientX - bounds.left) / bounds.width) * source.width;
  const y = ((event.clientY - bounds.top) / bounds.height) * source.height;
  return { x: Math.max(0, Math.min(source.width, x)), y: Math.max(0, Math.min(source.height, y)) };
}

function rectangleBetween(start, end) {
  const x = Math.round(Math.min(start.x, end.x));
  const y = Math.round(Math.min(start.y, end.y));
  return { x, y, width: Math.round(Math.max(start.x, end.x)) - x, height: Math.round(Math.max(start.y, end.y)) - y };
}

/** Arrow keys move the selection (with Shift: resize it), Enter crops to it, Escape drops it. */
function selectWithKeys(event) {
  const source = current();
  if (!source) return;
  const moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
  if (event.key === 'Enter' && selection) {
    event.preventDefault();
    crop(selection);
    return;
  }
  if (event.key === 'Escape' && selection) {
    event.preventDefault();
    selection = null;
    drawSelection();
    return;
  }
  const move = moves[event.key];
  if (!move) return;
  event.preventDefault();
  if (!selection) {
    // The first arrow press selects the middle half of the image.
    selection = {
      x: Math.round(source.width / 4), y: Math.round(source.height / 4),
      width: Math.round(source.width / 2), height: Math.round(source.height / 2),
    };
  } else {
    const step = Math.max(1, Math.round(Math.max(source.width, source.height) / 50));
    const moved = { ...selection };
    if (event.shiftKey) {
      moved.width = Math.max(step, Math.min(source.width - moved.x, moved.width + move[0] * step));
      moved.height = Math.max(step, Math.min(source.height - moved.y, moved.height + move[1] * step));
    } else {
      moved.x = Math.max(0, Math.min(source.width - moved.width, moved.x + move[0] * step));
      moved.y = Math.max(0, Math.min(source.height - moved.height, moved.y + move[1] * step));
    }
    selection = moved;
  }
  drawSelection();
}

/** Wires the editing tools, Undo, Reset and the crop selection. */
export function setUpEditor() {
  $('rotate-left').addEventListener('click', () => rotate(false));
  $('rotate-right').addEventListener('click', () => rotate(true));
  $('flip-horizontal').addEventListener('click', () => flip(true));
  $('flip-vertical').addEventListener('click', () => flip(false));
  $('crop-square').addEventListener('click', cropCentreSquare);
  $('crop-apply').addEventListener('click', () => { if (selection) crop(selection); });
  $('undo').addEventListener('click', () => {
    if (edited()) history.pop();
    selection = null;
    draw();
  });
  $('reset').addEventListener('click', () => {
    history.length = Math.min(history.length, 1);
    selection = null;
    draw();
  });

  const canvas = $('canvas');
  let dragStart = null;
  canvas.addEventListener('pointerdown', (event) => {
    if (!current() || event.button !== 0) return;
    event.preventDefault();
    canvas.focus();
    canvas.setPointerCapture(event.pointerId);
    dragStart = imagePoint(event);
    selection = null;
    drawSelection();
  });
  canvas.addEventListener('pointermove', (event) => {
    if (!dragStart) return;
    const rectangle = rectangleBetween(dragStart, imagePoint(event));
    selection = rectangle.width > 0 && rectangle.height > 0 ? rectangle : null;
    drawSelection();
  });
  const endDrag = () => {
    if (!dragStart) return;
    dragStart = null;
    // A click, or a sliver, is not a selection.
    const source = current();
    const minimum = Math.max(4, Math.round(Math.min(source.width, source.height) / 100));
    if (selection && (selection.width < minimum || selection.height < minimum)) selection = null;
    drawSelection();
  };
  canvas.addEventListener('pointerup', endDrag);
  canvas.addEventListener('pointercancel', endDrag);
  canvas.addEventListener('keydown', selectWithKeys);
}
