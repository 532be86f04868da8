// What Probe and Explain share: the models they ask, their sections (status with the seconds elapsed, error, output,
// emptied for another image), and the rule of one analysis at a time.
import { $, element } from './dom.js';
import { current, onImageChange, watchImage } from './editor.js';
import { offerExpectedSuggestions } from './expected.js';
import { demoPage } from './page.js';
import { checkedPayload } from './payload.js';

/** The analyses, each with its button and its section: `${name}`, `${name}-section`, `${name}-title`, …. */
const ANALYSES = ['probe', 'explain'];

/** A probe or an explanation is running (one at a time). */
let analysing = false;

/** The section an analysis fills in: heading (focused when done), status line, error and output. */
export function analysisSection(name) {
  return {
    section: $(`${name}-section`), title: $(`${name}-title`), status: $(`${name}-status`),
    error: $(`${name}-error`), output: $(`${name}-output`),
  };
}

/** The `model` parameter of an analysis, and how the progress message names it. */
export function analysisModels() {
  const allModels = $('analysis-all-models');
  if (allModels && allModels.checked) return { parameter: 'all', name: `${demoPage().models.length} models` };
  const model = $('model-select').value;
  return { parameter: model, name: model };
}

function updateButtons() {
  const analysable = Boolean(current()) && !analysing && demoPage().models.length > 0;
  for (const name of ANALYSES) $(name).disabled = !analysable;
}

/**
 * Runs one analysis into `view` (from analysisSection): shows `what` with the seconds elapsed while Probe and Explain
 * are disabled, then lets `work(image, stillShown)` fill the output and say in a sentence what it shows, or shows the
 * error. Either way the focus moves to the section's heading. The answer for an image that was replaced meanwhile is
 * dropped.
 */
export async function analyse(view, what, work) {
  if (!current() || analysing) return;
  const stillShown = watchImage();
  analysing = true;
  updateButtons();
  view.section.hidden = false;
  view.error.textContent = '';
  view.output.replaceChildren();
  view.output.setAttribute('aria-busy', 'true');
  const started = performance.now();
  const elapsed = () => Math.round((performance.now() - started) / 1000);
  // The seconds change every second; only the message itself is announced.
  const seconds = element('span', { className: 'elapsed', 'aria-hidden': 'true', text: '0 s' });
  view.status.replaceChildren(element('span', { className: 'spinner', 'aria-hidden': 'true' }), `${what}… `, seconds);
  const timer = setInterval(() => { seconds.textContent = `${elapsed()} s`; }, 1000);
  view.section.scrollIntoView({ behavior: 'smooth', block: 'nearest' });
  let finished = true;
  try {
    const summary = await work(await checkedPayload(), stillShown);
    finished = stillShown();
    if (finished) view.status.textContent = `${summary} (${elapsed()} s).`;
  } catch (error) {
    finished = stillShown();
    if (finished) {
      view.status.textContent = '';
      view.error.textContent = error.message;
      offerExpectedSuggestions(error);
    }
  } finally {
    clearInterval(timer);
    view.output.setAttribute('aria-busy', 'false');
    analysing = false;
    updateButtons();
  }
  if (finished) view.title.focus();
}

/** Another image (or none) hides the analyses of the old one; the buttons follow the image. */
export function setUpAnalyses() {
  onImageChange(({ newImage }) => {
    if (newImage) {
      for (const name of ANALYSES) {
        const view = analysisSection(name);
        view.section.hidden = true;
        view.output.replaceChildren();
      }
    }
    updateButtons();
  });
}
