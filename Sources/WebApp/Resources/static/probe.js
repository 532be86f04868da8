// Probe: which transformations (the families chosen) flip the model's answer on the demo's image, shown as the
// server's own report (HTML that our server renders and escapes: the one piece of HTML the page takes in).
import { $, element } from './dom.js';
import { analyse, analysisModels, analysisSection } from './analysis.js';
import { imageRequest, queryString, request } from './api.js';
import { expectedParameter } from './expected.js';

const familyChecks = () => Array.from(document.querySelectorAll('input[name="family"]'));
const corruptionChecks = () => Array.from(document.querySelectorAll('input[name="corruption"]'));
const selectedFamilies = () => familyChecks().filter((check) => check.checked);
const selectedCorruptions = () => corruptionChecks().filter((check) => check.checked);

/** "all 20", "3 of 20", "all 20 + 15 ImageNet-C". */
function showFamilyCount() {
  const count = selectedFamilies().length;
  const total = familyChecks().length;
  const corruptions = selectedCorruptions().length;
  $('families-count').textContent = (count === total ? `all ${count}` : `${count} of ${total}`)
    + (corruptions ? ` + ${corruptions} ImageNet-C` : '');
}

/**
 * "Probed 121 variants. efficientnet_lite0: 4 of 20 transformations flip the answer", or, on an image the model
 * already gets wrong, "… the original is already a miss; 2 of 20 transformations bring 'sports car' back (…)": the
 * report's own sentence per model, and the number of variants it classified.
 */
function probeSummary(output) {
  const variants = output.querySelector('.probe-report').dataset.variants;
  const sentences = Array.from(output.querySelectorAll('.probe-verdict'), (paragraph) => paragraph.textContent.trim().replace(/\.$/, ''));
  return `Probed ${variants} variants. ${sentences.join('; ')}`;
}

/** Probes the shown image: the server's report, a table wrapped to scroll sideways on narrow screens. */
function probe() {
  const view = analysisSection('probe');
  const families = selectedFamilies();
  const corruptions = selectedCorruptions();
  const checked = [...families, ...corruptions];
  if (!checked.length) {
    view.section.hidden = false;
    view.status.textContent = '';
    view.error.textContent = 'Choose at least one transformation to probe.';
    $('families-all').closest('details').open = true;
    familyChecks()[0].focus();
    return;
  }
  const chosen = analysisModels();
  // The original, each level, and ImageNet-C's clean crop once when a corruption is chosen.
  const variants = 1 + checked.reduce((sum, check) => sum + Number(check.dataset.variants || 0), 0) + (corruptions.length ? 1 : 0);
  analyse(view, `Probing ${variants} variants with ${chosen.name}`, async (image, stillShown) => {
    const query = queryString({
      model: chosen.parameter,
      expected: expectedParameter(),
      families: families.length < familyChecks().length || corruptions.length ? checked.map((check) => check.value).join(',') : '',
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
    view.output.replaceChildren(...report.childNodes);
    return probeSummary(view.output);
  });
}

/** Wires Probe and the choice of transformation families (All, None, the count chosen). */
export function setUpProbe() {
  for (const check of [...familyChecks(), ...corruptionChecks()]) check.addEventListener('change', showFamilyCount);
  const setAll = (checks, checked) => {
    for (const check of checks) check.checked = checked(check);
    showFamilyCount();
  };
  $('families-all').addEventListener('click', () => setAll(familyChecks(), () => true));
  $('families-none').addEventListener('click', () => setAll(familyChecks(), () => false));
  $('corruptions-common').addEventListener('click', () => setAll(corruptionChecks(), (check) => 'common' in check.dataset));
  $('corruptions-none').addEventListener('click', () => setAll(corruptionChecks(), () => false));
  $('probe').addEventListener('click', probe);
}
