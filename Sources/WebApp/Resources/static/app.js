// The pages' behaviour. Every page: size the probability bars the server drew, copy the link to share (bars.js,
// share.js). The demo page (the one with the JSON block #page-data): take an image, edit it, classify, probe and
// explain it, show an example of the post, report a blind spot. No libraries and no build step: ES modules.
import { $, element } from './dom.js';
import { milliseconds, percent } from './format.js';
import { sizeServerBars } from './bars.js';
import { setUpShareLink } from './share.js';
import { imageRequest, queryString, request, responseError, send } from './api.js';
import { demoPage } from './page.js';
import { clearImage, current, draw, onImageChange, setUpEditor, watchImage } from './editor.js';
import { checkedPayload, forgetPayload } from './payload.js';
import { clearMessages, showConfirmation, showError } from './messages.js';
import { offerSuggestions, setUpClassSuggestions } from './classes.js';
import { expectedParameter, firstExpected, leaveExample, offerExpectedSuggestions, setUpExpectedClass, useExample } from './expected.js';
import { loadImage, setUpLoading } from './loading.js';
import { closeCamera, setUpCamera } from './camera.js';
import { onAnswerChange, setUpClassify, submit } from './classify.js';

sizeServerBars();
setUpShareLink();

(() => {
  // ---- The demo page ----------------------------------------------------------------------------------------

  const page = demoPage();
  if (!page) return;
  const models = page.models;
  setUpLoading();
  setUpCamera();
  setUpEditor();
  setUpClassSuggestions();
  setUpExpectedClass();
  setUpClassify();

  const ui = {
    modelSelect: $('model-select'),
    clear: $('clear'), submit: $('submit'), flag: $('flag'), compare: $('compare'),
    result: $('result'),
    compareSection: $('compare-section'), compareGrid: $('compare-grid'),
    flagDialog: $('flag-dialog'), flagForm: $('flag-form'), flagClass: $('flag-class'), flagNote: $('flag-note'),
    flagCategory: $('flag-category'), flagNewCategory: $('flag-new-category'), flagReporter: $('flag-reporter'),
    flagError: $('flag-error'), flagSubmit: $('flag-submit'), flagCancel: $('flag-cancel'),
    probe: $('probe'), explain: $('explain'), expectedClass: $('expected-class'), explainMethod: $('explain-method'),
    explainClass: $('explain-class'), expectedSuggestions: $('expected-suggestions'), flagSuggestions: $('flag-suggestions'),
    allModels: $('analysis-all-models'), familiesCount: $('families-count'),
    familyChecks: Array.from(document.querySelectorAll('input[name="family"]')),
    familiesAll: $('families-all'), familiesNone: $('families-none'),
  };

  /** The two sections analyses fill in: heading (focused when done), status line, error and output. */
  const section = (name) => ({
    section: $(`${name}-section`), title: $(`${name}-title`), status: $(`${name}-status`),
    error: $(`${name}-error`), output: $(`${name}-output`),
  });
  const sections = { probe: section('probe'), explain: section('explain') };

  const state = {
    /** A probe or an explanation is running (one at a time). */
    analysing: false,
    /** The top class of the answer shown (for Explain's choice), or ''. */
    answerLabel: '',
  };

  // ---- Buttons that need an image ----------------------------------------------------------------------------

  function updateActions() {
    ui.flag.disabled = !current();
    const analysable = Boolean(current()) && !state.analysing && models.length > 0;
    ui.probe.disabled = !analysable;
    ui.explain.disabled = !analysable;
  }

  onImageChange(({ newImage }) => {
    if (newImage) {
      for (const view of Object.values(sections)) {
        view.section.hidden = true;
        view.output.replaceChildren();
      }
    }
    updateActions();
  });
  onAnswerChange((label) => {
    state.answerLabel = label;
    updateExplainChoice();
  });

  function clearAll() {
    closeCamera();
    forgetPayload();
    leaveExample();
    clearMessages();
    clearImage();
  }

  ui.clear.addEventListener('click', clearAll);

  // ---- Probe and explain ------------------------------------------------------------------------------------

  /** Explain's choice names what it would explain: "the answer (keeshond)", "the expected class (Siberian husky)". */
  function updateExplainChoice() {
    if (!ui.explainClass) return;
    const [answerOption, expectedOption] = ui.explainClass.options;
    answerOption.textContent = state.answerLabel ? `the answer (${state.answerLabel})` : 'the answer';
    const expected = firstExpected();
    expectedOption.textContent = expected ? `the expected class (${expected.name})` : 'the expected class (type one above)';
    expectedOption.disabled = !expected;
    if (!expected && ui.explainClass.value === 'expected') ui.explainClass.value = 'answer';
  }

  ui.expectedClass.addEventListener('input', updateExplainChoice);

  /** The `model` parameter of an analysis, and how the progress message names it. */
  function analysisModels() {
    if (ui.allModels && ui.allModels.checked) return { parameter: 'all', name: `${models.length} models` };
    return { parameter: ui.modelSelect.value, name: ui.modelSelect.value };
  }

  const selectedFamilies = () => ui.familyChecks.filter((check) => check.checked);

  function showFamilyCount() {
    const count = selectedFamilies().length;
    ui.familiesCount.textContent = count === ui.familyChecks.length ? `all ${count}` : `${count} of ${ui.familyChecks.length}`;
  }

  for (const check of ui.familyChecks) check.addEventListener('change', showFamilyCount);
  ui.familiesAll.addEventListener('click', () => {
    for (const check of ui.familyChecks) check.checked = true;
    showFamilyCount();
  });
  ui.familiesNone.addEventListener('click', () => {
    for (const check of ui.familyChecks) check.checked = false;
    showFamilyCount();
  });

  /**
   * Runs one analysis into `view` (one of `sections`): shows `what` with the seconds elapsed while Probe and Explain
   * are disabled, then lets `work(image)` fill the output and say in a sentence what it shows, or shows the error.
   * Either way the focus moves to the section's heading. The answer for an image that was replaced meanwhile is dropped.
   */
  async function analyse(view, what, work) {
    if (!current() || state.analysing) return;
    const stillShown = watchImage();
    state.analysing = true;
    updateActions();
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
      state.analysing = false;
      updateActions();
    }
    if (finished) view.title.focus();
  }

  /** Probes the shown image: the server's report, a table wrapped to scroll sideways on narrow screens. */
  function probe() {
    const checked = selectedFamilies();
    if (!checked.length) {
      sections.probe.section.hidden = false;
      sections.probe.status.textContent = '';
      sections.probe.error.textContent = 'Choose at least one transformation to probe.';
      ui.familiesAll.closest('details').open = true;
      ui.familyChecks[0].focus();
      return;
    }
    const chosen = analysisModels();
    const variants = 1 + checked.reduce((sum, check) => sum + Number(check.dataset.variants || 0), 0);
    analyse(sections.probe, `Probing ${variants} variants with ${chosen.name}`, async (image, stillShown) => {
      const query = queryString({
        model: chosen.parameter,
        expected: expectedParameter(),
        families: checked.length < ui.familyChecks.length ? checked.map((check) => check.value).join(',') : '',
      });
      const response = await request(`/api/v1/probe?${query}`, imageRequest(image, { Accept: 'text/html' }));
      const html = await response.text();
      if (!stillShown()) return '';
      // HTML our own server rendered and escaped (Reports/ProbeReport.swift); parsing it runs nothing.
      const report = new DOMParser().parseFromString(html, 'text/html').body;
      for (const table of report.querySelectorAll('table')) {
        const wrap = element('div', { className: 'table-scroll', tabindex: '0', role: 'region', 'aria-label': 'Summary table, scrolls sideways' });
        table.replaceWith(wrap);
        wrap.append(table);
      }
      sections.probe.output.replaceChildren(...report.childNodes);
      return probeSummary(sections.probe.output);
    });
  }

  /**
   * "Probed 121 variants. efficientnet_lite0: 4 of 20 transformations flip the answer", or, on an image the model
   * already gets wrong, "… the original is already a miss; 2 of 20 transformations bring 'sports car' back (…)": the
   * report's own sentence per model, and its variants (each family's grid starts with the original).
   */
  function probeSummary(output) {
    const grids = output.querySelectorAll('.probe-grid');
    const variants = 1 + output.querySelectorAll('.probe-grid .variant').length - grids.length;
    const sentences = Array.from(output.querySelectorAll('.probe-verdict'), (paragraph) => paragraph.textContent.trim().replace(/\.$/, ''));
    return `Probed ${variants} variants. ${sentences.join('; ')}`;
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
    const chosen = analysisModels();
    const method = ui.explainMethod.value;
    const expected = ui.explainClass && ui.explainClass.value === 'expected' ? firstExpected() : null;
    const whose = expected ? `‘${expected.name}’ for ${chosen.name}`
      : (chosen.parameter === 'all' ? `${chosen.name}’ answers` : `${chosen.name}’s answer`);
    analyse(sections.explain, `Explaining ${whose}, ${methodName(method)}`, async (image, stillShown) => {
      const query = queryString({ model: chosen.parameter, method, class: expected ? expected.parameter : '' });
      const { body: explanations } = await send(`/api/v1/explain?${query}`, imageRequest(image, { Accept: 'application/json' }));
      if (!stillShown()) return '';
      const list = Array.isArray(explanations) ? explanations : [];
      sections.explain.output.replaceChildren(element('div', { className: 'heatmaps' }, ...list.map(heatmapFigure)));
      if (expected) return `Explained ‘${expected.name}’ for ${list.length === 1 ? list[0].model : `${list.length} models`}`;
      return `Explained ${list.length === 1 ? `${list[0].model}’s answer` : `${list.length} models’ answers`}`;
    });
  }

  ui.probe.addEventListener('click', probe);
  ui.explain.addEventListener('click', explain);

  // ---- Flagging a blind spot --------------------------------------------------------------------------------

  ui.flag.addEventListener('click', () => {
    if (!current()) return;
    ui.flagError.textContent = '';
    const expected = firstExpected();
    if (expected && !ui.flagClass.value) ui.flagClass.value = expected.name;
    ui.flagSuggestions.hidden = true;
    ui.flagDialog.showModal();
    ui.flagClass.focus();
  });
  ui.flagCancel.addEventListener('click', () => ui.flagDialog.close());
  ui.flagDialog.addEventListener('close', () => ui.flag.focus());

  /** Adds the category a report just named to the dialog's list, so that the next report can pick it. */
  function addCategoryOption(report) {
    if (!report.category) return;
    const known = Array.from(ui.flagCategory.options).some((option) => option.value === report.category);
    if (!known) ui.flagCategory.append(element('option', { value: report.category, text: report.categoryTitle || report.category }));
  }

  ui.flagForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const expected = ui.flagClass.value.trim();
    if (!expected) {
      ui.flagError.textContent = 'Name the class the image really shows.';
      ui.flagClass.focus();
      return;
    }
    ui.flagError.textContent = '';
    ui.flagSubmit.disabled = true;
    ui.flagSubmit.textContent = 'Sending…';
    try {
      const image = await checkedPayload();
      const form = new FormData();
      form.append('image', image.blob, image.name);
      form.append('expected', expected);
      form.append('note', ui.flagNote.value);
      // A new category's title wins over the one selected.
      const category = ui.flagNewCategory.value.trim() || ui.flagCategory.value;
      if (category) form.append('category', category);
      const reporter = ui.flagReporter.value.trim();
      if (reporter) form.append('reporter', reporter);
      // 201: a new report; 200: the same image was already reported with the same class, and this confirms it.
      const { status, body: report } = await send('/api/v1/blindspots', { method: 'POST', body: form });
      addCategoryOption(report);
      ui.flagForm.reset();
      ui.flagReporter.value = reporter;
      ui.flagDialog.close();
      const link = element('a', { href: report.url, text: report.url });
      showConfirmation(...(status === 201
        ? ['Thank you: your report is waiting for review. Its link: ', link]
        : [`This blind spot was already reported; your confirmation makes ${report.confirmations}. Its link: `, link]));
    } catch (error) {
      ui.flagError.textContent = error.message;
      offerSuggestions(error, ui.flagClass, ui.flagSuggestions);
    } finally {
      ui.flagSubmit.disabled = false;
      ui.flagSubmit.textContent = 'Submit flag';
    }
  });

  // ---- The selected example ---------------------------------------------------------------------------------

  async function openExample(example) {
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

  draw();
  if (page.example) openExample(page.example);
})();
