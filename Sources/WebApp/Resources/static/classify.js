// Classifying the demo's image: Submit with the model in the menu (again when another is chosen), Compare with every
// model, and how an answer reads (top classes with bars, the expected class's rank, the time taken).
import { $, element } from './dom.js';
import { imageRequest, queryString, send } from './api.js';
import { bar } from './bars.js';
import { current, onImageChange, watchImage } from './editor.js';
import { expectedParameter, offerExpectedSuggestions } from './expected.js';
import { milliseconds, percent } from './format.js';
import { clearMessages, showError } from './messages.js';
import { demoPage } from './page.js';
import { checkedPayload } from './payload.js';

/** A classification (Submit or Compare) is running. */
let busy = false;
/** A model was chosen while a classification ran: classify again when it ends. */
let reclassify = false;
/** The model whose answer is shown, or ''. */
let answeredBy = '';
/** Called with the top class of the answer shown, or '' when none is. */
const answerListeners = [];

/** Calls `listener(label)` whenever the answer shown changes: its top class, or '' when no answer is shown. */
export function onAnswerChange(listener) {
  answerListeners.push(listener);
}

function announceAnswer(label) {
  for (const listener of answerListeners) listener(label);
}

/** Classifies `image` with `model`; resolves to the response and the round trip the browser measured. */
async function classify(model, image) {
  const query = queryString({ model, top: '5', expected: expectedParameter() });
  const started = performance.now();
  const { body: response } = await send(`/api/v1/classify?${query}`, imageRequest(image));
  return { response, roundTripMs: performance.now() - started };
}

function predictionList(predictions) {
  return element('ol', { className: 'predictions', 'aria-label': 'Top classes' },
    ...predictions.map((prediction) => element('li', {},
      element('span', { className: 'name', text: prediction.label }),
      element('span', { className: 'pct', text: percent(prediction.probability) }),
      bar(prediction.probability))));
}

function latencyText(response, roundTripMs) {
  const timing = response.timing || {};
  const server = typeof timing.decodeMs === 'number' && typeof timing.inferenceMs === 'number'
    ? `decode ${milliseconds(timing.decodeMs)} + inference ${milliseconds(timing.inferenceMs)} on the server · `
    : '';
  return `${server}${milliseconds(roundTripMs)} round trip`;
}

function expectedText(expected) {
  if (!expected) return '';
  return `Expected class ‘${expected.label}’ is ranked #${expected.rank} (${percent(expected.probability)})`;
}

/**
 * The parts of one answer: the model, the top class, the top five with bars, the expected class's rank (its
 * paragraph gets `expectedId` when given) and the latency.
 */
function answer({ response, roundTripMs }, { expectedId } = {}) {
  const predictions = response.predictions || [];
  const top = predictions[0];
  const parts = [
    element('h3', { className: 'answered-by', text: `${response.model} sees` }),
    top ? element('p', { className: 'top-label', text: top.label }) : element('p', { text: 'No classes returned.' }),
    top ? element('p', { className: 'top-probability', text: `${percent(top.probability)} sure` }) : null,
    predictionList(predictions),
    response.expected
      ? element('p', { className: 'expected-rank', text: expectedText(response.expected), ...(expectedId ? { id: expectedId } : {}) })
      : null,
    element('p', { className: 'latency', text: latencyText(response, roundTripMs) }),
  ];
  return parts.filter(Boolean);
}

/** Another image (or none): its answers are gone. */
function clearAnswers() {
  $('result').replaceChildren(element('p', { className: 'placeholder', text: 'Press Submit to see what the model sees.' }));
  answeredBy = '';
  announceAnswer('');
  $('compare-grid').replaceChildren();
  $('compare-section').hidden = true;
}

function updateButtons() {
  const ready = Boolean(current()) && !busy && demoPage().models.length > 0;
  $('submit').disabled = !ready;
  $('compare').disabled = !ready;
}

function setBusy(isBusy) {
  busy = isBusy;
  $('submit').textContent = busy ? 'Classifying…' : 'Submit';
  $('result').setAttribute('aria-busy', String(busy));
  updateButtons();
}

/** Classifies the shown image with the model in the menu and shows the answer. */
export async function submit() {
  if (!current() || busy) return;
  const model = $('model-select').value;
  const stillShown = watchImage();
  clearMessages();
  setBusy(true);
  try {
    const outcome = await classify(model, await checkedPayload());
    if (stillShown()) {
      $('result').replaceChildren(...answer(outcome, { expectedId: 'expected-rank' }));
      const top = (outcome.response.predictions || [])[0];
      answeredBy = outcome.response.model;
      announceAnswer(top ? top.label : '');
    }
  } catch (error) {
    showError(error.message);
    offerExpectedSuggestions(error);
  } finally {
    setBusy(false);
  }
  if (reclassify) {
    reclassify = false;
    submit();
  }
}

/** Classifies the shown image with every available model at once, one card per model. */
async function compare() {
  if (!current() || busy) return;
  const compareSection = $('compare-section');
  const compareGrid = $('compare-grid');
  clearMessages();
  setBusy(true);
  compareSection.hidden = false;
  const cards = demoPage().models.map((model) => {
    const card = element('article', { className: 'card', 'aria-busy': 'true' },
      element('h3', { className: 'answered-by', text: model.name }),
      element('p', { className: 'placeholder', text: 'Classifying…' }));
    return { model, card };
  });
  compareGrid.setAttribute('aria-busy', 'true');
  compareGrid.replaceChildren(...cards.map(({ card }) => card));
  try {
    const image = await checkedPayload();
    await Promise.all(cards.map(async ({ model, card }) => {
      try {
        card.replaceChildren(...answer(await classify(model.name, image)));
      } catch (error) {
        card.replaceChildren(element('h3', { className: 'answered-by', text: model.name }),
          element('p', { className: 'error', text: error.message }));
      }
      card.setAttribute('aria-busy', 'false');
    }));
  } catch (error) {
    compareSection.hidden = true;
    showError(error.message);
  } finally {
    compareGrid.setAttribute('aria-busy', 'false');
    setBusy(false);
  }
  if (!compareSection.hidden) compareSection.scrollIntoView({ behavior: 'smooth', block: 'nearest' });
}

/** Wires Submit, Compare and the model menu; a new image clears the answers. */
export function setUpClassify() {
  onImageChange(({ newImage }) => {
    if (newImage) clearAnswers();
    updateButtons();
  });
  $('submit').addEventListener('click', submit);
  $('compare').addEventListener('click', compare);

  // A result on screen is the answer of the model in the menu: choosing another one classifies again at once.
  const modelSelect = $('model-select');
  modelSelect.addEventListener('change', () => {
    if (!current()) return;
    if (busy) {
      reclassify = true;
      return;
    }
    if (!answeredBy) return;
    announceAnswer('');
    $('result').replaceChildren(element('p', { className: 'placeholder', text: `Classifying with ${modelSelect.value}…` }));
    submit();
  });
}
