// Probability bars: new ones for the demo's answers, and sizing the ones the server drew (it writes each bar's
// probability into the page, since a style attribute would break the CSP).
import { element } from './dom.js';

/** Sizes a bar's fill to the probability's share of its track. */
function fillBar(fill, probability) {
  fill.style.width = `${Math.max(0, Math.min(1, probability)) * 100}%`;
}

export function bar(probability) {
  const fill = element('span', { className: 'bar' });
  fillBar(fill, probability);
  return element('span', { className: 'bar-track', 'aria-hidden': 'true' }, fill);
}

/** Sizes every bar the server drew with a `data-probability`. */
export function sizeServerBars() {
  for (const fill of document.querySelectorAll('.bar[data-probability]')) {
    fillBar(fill, Number(fill.dataset.probability));
  }
}
