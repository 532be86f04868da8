// The pages' behaviour. Every page: size the probability bars the server drew, copy the link to share (bars.js,
// share.js). The demo page (the one with the JSON block #page-data): take an image, edit it, classify, probe and
// explain it, show an example of the post, report a blind spot. No libraries and no build step: ES modules.
import { $, element } from './dom.js';
import { milliseconds, percent } from './format.js';
import { bar, sizeServerBars } from './bars.js';
import { setUpShareLink } from './share.js';
import { imageRequest, queryString, request, responseError, send } from './api.js';
import { demoPage } from './page.js';
import { clearImage, current, draw, onImageChange, setUpEditor, showNewImage, watchImage } from './editor.js';
import { checkedPayload, forgetPayload } from './payload.js';

sizeServerBars();
setUpShareLink();

(() => {
  // ---- The demo page ----------------------------------------------------------------------------------------

  const page = demoPage();
  if (!page) return;
  const models = page.models;
  setUpEditor();

  const ui = {
    dropZone: $('drop-zone'), fileInput: $('file-input'),
    cameraOpen: $('camera-open'), camera: $('camera'), cameraVideo: $('camera-video'),
    cameraSnap: $('camera-snap'), cameraClose: $('camera-close'),
    canvas: $('canvas'),
    modelSelect: $('model-select'),
    clear: $('clear'), submit: $('submit'), flag: $('flag'), compare: $('compare'),
    error: $('error'), flagConfirmation: $('flag-confirmation'), result: $('result'),
    reported: $('reported'),
    compareSection: $('compare-section'), compareGrid: $('compare-grid'),
    flagDialog: $('flag-dialog'), flagForm: $('flag-form'), flagClass: $('flag-class'), flagNote: $('flag-note'),
    flagCategory: $('flag-category'), flagNewCategory: $('flag-new-category'), flagReporter: $('flag-reporter'),
    flagError: $('flag-error'), flagSubmit: $('flag-submit'), flagCancel: $('flag-cancel'),
    probe: $('probe'), explain: $('explain'), expectedClass: $('expected-class'), explainMethod: $('explain-method'),
    explainClass: $('explain-class'), expectedSuggestions: $('expected-suggestions'), flagSuggestions: $('flag-suggestions'),
    classList: $('imagenet-classes'),
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
    /** The classes that count as right (while the selected example's image is loaded), or []. */
    expected: [],
    busy: false,
    /** A probe or an explanation is running (one at a time). */
    analysing: false,
    /** The top class of the answer shown (for Explain's choice), or ''. */
    answerLabel: '',
    /** The model whose answer is shown, or ''. */
    answeredBy: '',
    /** A model was chosen while a classification ran: classify again when it ends. */
    reclassify: false,
    cameraStream: null,
  };

  // ---- Demo helpers -----------------------------------------------------------------------------------------

  /** Shows `message` in the page's error box and brings the box into view (on a phone it may be off screen). */
  function showError(message) {
    ui.error.textContent = message;
    if (message) ui.error.scrollIntoView({ block: 'nearest' });
  }

  function clearMessages() {
    ui.error.textContent = '';
    ui.flagConfirmation.textContent = '';
  }

  // ---- Loading an image -------------------------------------------------------------------------------------

  /**
   * Shows `blob` in the editor as the new image. `keepExample` keeps the selected example's expected classes
   * (set when the example's own image is loaded); any other image is the user's own.
   */
  async function loadImage(blob, name, { keepExample = false } = {}) {
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

  /** The image is no longer the example's own: its expected classes and the post's answer no longer apply. */
  function leaveExample() {
    if (ui.expectedClass.value.trim() === exampleExpectedText()) ui.expectedClass.value = '';
    state.expected = [];
    if (ui.reported) ui.reported.hidden = true;
  }

  function loadFirstImage(files, how) {
    const file = Array.from(files || []).find((candidate) => candidate.type.startsWith('image/')) || (files && files[0]);
    if (!file) {
      showError(`No image file was ${how}.`);
      return;
    }
    loadImage(file, file.name || 'image');
  }

  ui.fileInput.addEventListener('change', () => {
    if (ui.fileInput.files.length) loadFirstImage(ui.fileInput.files, 'chosen');
    ui.fileInput.value = '';
  });

  // Dropping anywhere on the page loads the image; the drop zone shows where.
  const carriesFiles = (event) => Array.from(event.dataTransfer ? event.dataTransfer.types : []).includes('Files');
  document.addEventListener('dragover', (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = 'copy';
    ui.dropZone.classList.add('dragging');
  });
  document.addEventListener('dragleave', (event) => {
    if (event.relatedTarget === null) ui.dropZone.classList.remove('dragging');
  });
  document.addEventListener('drop', (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    ui.dropZone.classList.remove('dragging');
    loadFirstImage(event.dataTransfer.files, 'dropped');
  });

  document.addEventListener('paste', (event) => {
    if (ui.flagDialog.open || !event.clipboardData) return;
    const item = Array.from(event.clipboardData.items).find((entry) => entry.kind === 'file' && entry.type.startsWith('image/'));
    if (!item) return;
    event.preventDefault();
    loadImage(item.getAsFile(), `pasted.${item.type.slice('image/'.length)}`);
  });

  // ---- Camera -----------------------------------------------------------------------------------------------

  function cameraErrorMessage(error) {
    switch (error && error.name) {
      case 'NotAllowedError':
      case 'SecurityError':
        return 'The camera is blocked: allow it in the browser’s site settings, or choose a file instead.';
      case 'NotFoundError':
      case 'OverconstrainedError':
        return 'No camera was found. Choose a file, drop or paste an image instead.';
      case 'NotReadableError':
        return 'The camera is in use by another application.';
      default:
        return `The camera could not be started${error && error.message ? ` (${error.message})` : ''}.`;
    }
  }

  async function openCamera() {
    clearMessages();
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      showError('This browser offers no camera here (cameras need HTTPS or localhost). Choose a file instead.');
      return;
    }
    try {
      state.cameraStream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false });
    } catch (error) {
      showError(cameraErrorMessage(error));
      return;
    }
    ui.cameraVideo.srcObject = state.cameraStream;
    ui.camera.hidden = false;
    try {
      await ui.cameraVideo.play();
    } catch (error) {
      closeCamera();
      showError(cameraErrorMessage(error));
      return;
    }
    ui.cameraSnap.focus();
  }

  function closeCamera() {
    if (state.cameraStream) state.cameraStream.getTracks().forEach((track) => track.stop());
    state.cameraStream = null;
    ui.cameraVideo.srcObject = null;
    ui.camera.hidden = true;
  }

  function takeSnapshot() {
    const video = ui.cameraVideo;
    if (!video.videoWidth) {
      showError('The camera has no picture yet; try again in a moment.');
      return;
    }
    const canvas = document.createElement('canvas');
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    canvas.getContext('2d').drawImage(video, 0, 0);
    closeCamera();
    canvas.toBlob((blob) => {
      loadImage(blob, 'camera-snapshot.png').then((loaded) => { if (loaded) ui.canvas.focus(); });
    }, 'image/png');
  }

  ui.cameraOpen.addEventListener('click', openCamera);
  ui.cameraClose.addEventListener('click', () => { closeCamera(); ui.cameraOpen.focus(); });
  ui.cameraSnap.addEventListener('click', takeSnapshot);

  // ---- Buttons that need an image ----------------------------------------------------------------------------

  function updateActions() {
    const ready = Boolean(current()) && !state.busy;
    ui.submit.disabled = !ready || models.length === 0;
    ui.compare.disabled = !ready || models.length === 0;
    ui.flag.disabled = !current();
    const analysable = Boolean(current()) && !state.analysing && models.length > 0;
    ui.probe.disabled = !analysable;
    ui.explain.disabled = !analysable;
  }

  onImageChange(({ newImage }) => {
    if (newImage) clearResults();
    updateActions();
  });

  // ---- Talking to the API -----------------------------------------------------------------------------------

  /** Classifies `image` with `model`; resolves to the response and the round trip the browser measured. */
  async function classify(model, image) {
    const query = queryString({ model, top: '5', expected: expectedParameter() });
    const started = performance.now();
    const { body: response } = await send(`/api/v1/classify?${query}`, imageRequest(image));
    return { response, roundTripMs: performance.now() - started };
  }

  // ---- Showing results --------------------------------------------------------------------------------------

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

  function clearResults() {
    ui.result.replaceChildren(element('p', { className: 'placeholder', text: 'Press Submit to see what the model sees.' }));
    state.answerLabel = '';
    state.answeredBy = '';
    updateExplainChoice();
    ui.compareGrid.replaceChildren();
    ui.compareSection.hidden = true;
    for (const view of Object.values(sections)) {
      view.section.hidden = true;
      view.output.replaceChildren();
    }
  }

  function setBusy(busy) {
    state.busy = busy;
    ui.submit.textContent = busy ? 'Classifying…' : 'Submit';
    ui.result.setAttribute('aria-busy', String(busy));
    updateActions();
  }

  async function submit() {
    if (!current() || state.busy) return;
    const model = ui.modelSelect.value;
    const stillShown = watchImage();
    clearMessages();
    setBusy(true);
    try {
      const outcome = await classify(model, await checkedPayload());
      if (stillShown()) {
        ui.result.replaceChildren(...answer(outcome, { expectedId: 'expected-rank' }));
        const top = (outcome.response.predictions || [])[0];
        state.answerLabel = top ? top.label : '';
        state.answeredBy = outcome.response.model;
        updateExplainChoice();
      }
    } catch (error) {
      showError(error.message);
      offerSuggestions(error, ui.expectedClass, ui.expectedSuggestions);
    } finally {
      setBusy(false);
    }
    if (state.reclassify) {
      state.reclassify = false;
      submit();
    }
  }

  // A result on screen is the answer of the model in the menu: choosing another one classifies again at once.
  ui.modelSelect.addEventListener('change', () => {
    if (!current()) return;
    if (state.busy) {
      state.reclassify = true;
      return;
    }
    if (!state.answeredBy) return;
    state.answerLabel = '';
    updateExplainChoice();
    ui.result.replaceChildren(element('p', { className: 'placeholder', text: `Classifying with ${ui.modelSelect.value}…` }));
    submit();
  });

  /** Classifies the shown image with every available model at once, one card per model. */
  async function compare() {
    if (!current() || state.busy) return;
    clearMessages();
    setBusy(true);
    ui.compareSection.hidden = false;
    const cards = models.map((model) => {
      const card = element('article', { className: 'card', 'aria-busy': 'true' },
        element('h3', { className: 'answered-by', text: model.name }),
        element('p', { className: 'placeholder', text: 'Classifying…' }));
      return { model, card };
    });
    ui.compareGrid.setAttribute('aria-busy', 'true');
    ui.compareGrid.replaceChildren(...cards.map(({ card }) => card));
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
      ui.compareSection.hidden = true;
      showError(error.message);
    } finally {
      ui.compareGrid.setAttribute('aria-busy', 'false');
      setBusy(false);
    }
    if (!ui.compareSection.hidden) ui.compareSection.scrollIntoView({ behavior: 'smooth', block: 'nearest' });
  }

  function clearAll() {
    closeCamera();
    forgetPayload();
    leaveExample();
    clearMessages();
    clearImage();
  }

  ui.submit.addEventListener('click', submit);
  ui.compare.addEventListener('click', compare);
  ui.clear.addEventListener('click', clearAll);

  // ---- Probe and explain ------------------------------------------------------------------------------------

  /** The selected example's expected classes as the expected-class field shows them. */
  function exampleExpectedText() {
    return state.expected.map((entry) => entry.name).join(', ');
  }

  /** The `expected` parameter: the example's class indices while the field still shows them, else what was typed. */
  function expectedParameter() {
    const typed = ui.expectedClass.value.trim();
    if (state.expected.length && typed === exampleExpectedText()) return state.expected.map((entry) => entry.index).join(',');
    return typed;
  }

  /** The first class of the expected-class field, as the `class` of an explanation and Flag's correct class. */
  function firstExpected() {
    const typed = ui.expectedClass.value.trim();
    if (state.expected.length && typed === exampleExpectedText()) return { parameter: String(state.expected[0].index), name: state.expected[0].name };
    const first = typed.split(',')[0].trim();
    return first ? { parameter: first, name: first } : null;
  }

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

  /**
   * When `error` is the server's unknown_label with suggestions, offers them as buttons in `container` that put the
   * suggested class into `field` in place of the unknown one; otherwise clears `container`.
   */
  function offerSuggestions(error, field, container) {
    container.replaceChildren();
    container.hidden = true;
    if (!error || error.code !== 'unknown_label' || !error.suggestions.length) return;
    const unknown = (/^'([^']*)'/.exec(error.message) || [])[1];
    container.append(element('span', { className: 'suggestions-lead', text: 'Did you mean' }));
    for (const suggestion of error.suggestions) {
      const button = element('button', { type: 'button', className: 'tool suggestion', text: suggestion.label });
      button.addEventListener('click', () => {
        const entries = field.value.split(',').map((entry) => entry.trim()).filter(Boolean);
        const at = unknown === undefined ? -1 : entries.findIndex((entry) => entry.toLowerCase() === unknown.trim().toLowerCase());
        if (at >= 0 && entries.length > 1) entries[at] = suggestion.label;
        field.value = at >= 0 && entries.length > 1 ? entries.join(', ') : suggestion.label;
        container.replaceChildren();
        container.hidden = true;
        field.dispatchEvent(new Event('input'));
        field.focus();
      });
      container.append(button);
    }
    container.hidden = false;
  }

  // While a class is typed, the list of suggestions holds the server's best matches for its last entry (names and
  // WordNet synonyms: "husky" offers "Siberian husky" and "Eskimo dog"); empty, it holds every class again.
  const allClassOptions = ui.classList ? Array.from(ui.classList.options, (option) => option.value) : [];
  let classLookup = null;
  function suggestClasses(field) {
    clearTimeout(classLookup);
    classLookup = setTimeout(async () => {
      const entries = field.value.split(',');
      const typed = entries[entries.length - 1].trim();
      const before = entries.slice(0, -1).map((entry) => entry.trim()).filter(Boolean);
      const withPrefix = (label) => [...before, label].join(', ');
      if (typed.length < 2) {
        ui.classList.replaceChildren(...allClassOptions.map((value) => element('option', { value: withPrefix(value) })));
        return;
      }
      try {
        const response = await fetch(`/api/v1/classes?${queryString({ q: typed, limit: '8' })}`);
        if (!response.ok) return;
        const { classes } = await response.json();
        if (!Array.isArray(classes) || field.value.split(',').pop().trim() !== typed) return;
        ui.classList.replaceChildren(...classes.map((entry) => element('option', {
          value: withPrefix(entry.label),
          label: entry.matched && entry.matched !== entry.label ? `${entry.label} (${entry.matched})` : entry.label,
        })));
      } catch {
        // No suggestions while the server cannot be reached; the field still works.
      }
    }, 200);
  }
  if (ui.classList) {
    for (const field of [ui.expectedClass, ui.flagClass]) field.addEventListener('input', () => suggestClasses(field));
  }
  ui.expectedClass.addEventListener('input', () => {
    updateExplainChoice();
    ui.expectedSuggestions.hidden = true;
  });

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
        offerSuggestions(error, ui.expectedClass, ui.expectedSuggestions);
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
      ui.flagConfirmation.replaceChildren(...(status === 201
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
    state.expected = example.expected || [];
    ui.expectedClass.value = exampleExpectedText();
    updateExplainChoice();
    if (await loadImage(blob, example.file, { keepExample: true })) await submit();
  }

  draw();
  if (page.example) openExample(page.example);
})();
