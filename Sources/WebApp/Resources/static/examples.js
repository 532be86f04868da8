// The selected example of the post (/examples/N): its image loaded with its expected classes, then classified.
import { responseError } from './api.js';
import { submit } from './classify.js';
import { useExample } from './expected.js';
import { updateExplainChoice } from './explain.js';
import { loadImage } from './loading.js';
import { showError } from './messages.js';

/** Loads `example`'s image (when the server has it) as the one to edit, with its expected classes, and classifies it. */
export async function openExample(example) {
  if (!example.imageAvailable) return;
  let blob;
  try {
    const response = await fetch(example.imagePath);
    if (!response.ok) throw await responseError(response);
    blob = await response.blob();
  } catch (error) {
    showError(`The example’s image could not be loaded: ${error.message}`);
    return;
  }
  useExample(example);
  updateExplainChoice();
  if (await loadImage(blob, example.file, { keepExample: true })) await submit();
}
