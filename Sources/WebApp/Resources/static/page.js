// What the demo page's server wrote for its script in the JSON block #page-data: the models to offer, the selected
// example and the server's limits (megapixels, longest side, body bytes).
import { $ } from './dom.js';

let data;

/** The demo page's data (`models` always a list), or null on a page without #page-data. */
export function demoPage() {
  if (data === undefined) {
    const block = $('page-data');
    const parsed = block ? JSON.parse(block.textContent || '{}') : null;
    data = parsed && { ...parsed, models: parsed.models || [] };
  }
  return data;
}
