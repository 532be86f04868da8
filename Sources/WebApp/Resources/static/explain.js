// Explain: what each chosen model looks at in the demo's image, as heatmaps side by side, for the answer shown or
// for the expected class (the choice names both).
import { $, element } from './dom.js';
import { analyse, analysisModels, analysisSection } from './analysis.js';
import { imageRequest, queryString, send } from './api.js';
import { onAnswerChange } from './classify.js';
import { firstExpected } from './expected.js';
import { milliseconds, percent } from './format.js';

/** The top class of the answer shown, or ''. */
let answerLabel = '';

/** Explain's choice names what it would explain: "the answer (keeshond)", "the expected class (Siberian husky)". */
export function updateExplainChoice() {
  const choice = $('explain-class');
  if (!choice) return;
  const [answerOption, expectedOption] = choice.options;
  answerOption.textContent = answerLabel ? `the answer (${answerLabel})` : 'the answer';
  const expected = firstExpected();
  expectedOption.textContent = expected ? `the expected class (${expected.name})` : 'the expected class (type one above)';
  expectedOption.disabled = !expected;
  if (!expected && choice.value === 'expected') choice.value = 'answer';
}

function methodName(method) {
  return method === 'superpixels' ? 'regions greyed out' : 'squares greyed out';
}

/**
 * One model's heatmap, with the model, the class explained, its probability, the method and the time as caption,
 * and the server's sentence of what the colours mean (largest drop in probability points).
 */
function heatmapFigure(explanation) {
  const label = explanation.class ? explanation.class.label : 'its first choice';
  const overlay = String(explanation.overlay || '');
  const picture = overlay.startsWith('data:image/png;base64,')
    ? element('img', {
      className: 'heatmap-image', src: overlay,
      alt: `Heatmap of what ${explanation.model} looks at for ‘${label}’: the brighter a part, the more hiding it lowers the probability.`,
    })
    : element('p', { className: 'error', text: 'The server sent no heatmap image.' });
  return element('figure', { className: 'heatmap' }, picture,
    element('figcaption', {},
      element('span', { className: 'model-name', text: explanation.model }),
      element('span', { className: 'heatmap-class', text: `‘${label}’, ${percent(explanation.baseProbability)} on the whole image` }),
      element('span', { className: 'heatmap-meta', text: `${methodName(explanation.method)} · ${milliseconds(explanation.milliseconds)}` }),
      explanation.caption ? element('span', { className: 'heatmap-legend', text: explanation.caption }) : null));
}

/** Explains the shown image's answer with each chosen model, side by side. */
function explain() {
  const view = analysisSection('explain');
  const chosen = analysisModels();
  const method = $('explain-method').value;
  const choice = $('explain-class');
  const expected = choice && choice.value === 'expected' ? firstExpected() : null;
  const whose = expected ? `‘${expected.name}’ for ${chosen.name}`
    : (chosen.parameter === 'all' ? `${chosen.name}’ answers` : `${chosen.name}’s answer`);
  analyse(view, `Explaining ${whose}, ${methodName(method)}`, async (image, stillShown) => {
    const query = queryString({ model: chosen.parameter, method, class: expected ? expected.parameter : '' });
    const { body: explanations } = await send(`/api/v1/explain?${query}`, imageRequest(image, { Accept: 'application/json' }));
    if (!stillShown()) return '';
    const list = Array.isArray(explanations) ? explanations : [];
    view.output.replaceChildren(element('div', { className: 'heatmaps' }, ...list.map(heatmapFigure)));
    if (expected) return `Explained ‘${expected.name}’ for ${list.length === 1 ? list[0].model : `${list.length} models`}`;
    return `Explained ${list.length === 1 ? `${list[0].model}’s answer` : `${list.length} models’ answers`}`;
  });
}

/** Wires Explain; its choice follows the answer shown and the expected class typed. */
export function setUpExplain() {
  onAnswerChange((label) => {
    answerLabel = label;
    updateExplainChoice();
  });
  $('expected-class').addEventListener('input', updateExplainChoice);
  $('explain').addEventListener('click', explain);
}
