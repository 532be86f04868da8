// The pages' behaviour. Every page: size the probability bars the server drew, copy the link to share (bars.js,
// share.js). The demo page (the one with the JSON block #page-data): take an image, edit it, classify, probe and
// explain it, show an example of the post, report a blind spot. No libraries and no build step: ES modules.
import { $, element } from './dom.js';
import { sizeServerBars } from './bars.js';
import { setUpShareLink } from './share.js';
import { responseError, send } from './api.js';
import { demoPage } from './page.js';
import { clearImage, current, draw, onImageChange, setUpEditor } from './editor.js';
import { checkedPayload, forgetPayload } from './payload.js';
import { clearMessages, showConfirmation, showError } from './messages.js';
import { offerSuggestions, setUpClassSuggestions } from './classes.js';
import { firstExpected, leaveExample, setUpExpectedClass, useExample } from './expected.js';
import { loadImage, setUpLoading } from './loading.js';
import { closeCamera, setUpCamera } from './camera.js';
import { setUpClassify, submit } from './classify.js';
import { setUpAnalyses } from './analysis.js';
import { setUpProbe } from './probe.js';
import { setUpExplain, updateExplainChoice } from './explain.js';

sizeServerBars();
setUpShareLink();

(() => {
  // ---- The demo page ----------------------------------------------------------------------------------------

  const page = demoPage();
  if (!page) return;
  setUpLoading();
  setUpCamera();
  setUpEditor();
  setUpClassSuggestions();
  setUpExpectedClass();
  setUpClassify();
  setUpAnalyses();
  setUpProbe();
  setUpExplain();

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

  onImageChange(() => { ui.flag.disabled = !current(); });

  function clearAll() {
    closeCamera();
    forgetPayload();
    leaveExample();
    clearMessages();
    clearImage();
  }

  ui.clear.addEventListener('click', clearAll);

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
