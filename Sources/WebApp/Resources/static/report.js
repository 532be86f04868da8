// Reporting a blind spot from the demo: the Flag dialog (the class the image really shows, a note, a category, who
// reports) files the shown image in the catalog, and the page says where its report is.
import { $, element } from './dom.js';
import { send } from './api.js';
import { offerSuggestions } from './classes.js';
import { current, onImageChange } from './editor.js';
import { firstExpected } from './expected.js';
import { showConfirmation } from './messages.js';
import { checkedPayload } from './payload.js';

/** Adds the category a report just named to the dialog's list, so that the next report can pick it. */
function addCategoryOption(report) {
  if (!report.category) return;
  const categories = $('flag-category');
  const known = Array.from(categories.options).some((option) => option.value === report.category);
  if (!known) categories.append(element('option', { value: report.category, text: report.categoryTitle || report.category }));
}

/** Sends the dialog's report with the shown image; says where the report is, or shows the server's error. */
async function fileReport(event) {
  event.preventDefault();
  const flagClass = $('flag-class');
  const flagError = $('flag-error');
  const flagSubmit = $('flag-submit');
  const expected = flagClass.value.trim();
  if (!expected) {
    flagError.textContent = 'Name the class the image really shows.';
    flagClass.focus();
    return;
  }
  flagError.textContent = '';
  flagSubmit.disabled = true;
  flagSubmit.textContent = 'Sending…';
  try {
    const image = await checkedPayload();
    const form = new FormData();
    form.append('image', image.blob, image.name);
    form.append('expected', expected);
    form.append('note', $('flag-note').value);
    // A new category's title wins over the one selected.
    const category = $('flag-new-category').value.trim() || $('flag-category').value;
    if (category) form.append('category', category);
    const reporter = $('flag-reporter').value.trim();
    if (reporter) form.append('reporter', reporter);
    // 201: a new report; 200: the same image was already reported with the same class, and this confirms it.
    const { status, body: report } = await send('/api/v1/blindspots', { method: 'POST', body: form });
    addCategoryOption(report);
    $('flag-form').reset();
    $('flag-reporter').value = reporter;
    $('flag-dialog').close();
    const link = element('a', { href: report.url, text: report.url });
    showConfirmation(...(status === 201
      ? ['Thank you: your report is waiting for review. Its link: ', link]
      : [`This blind spot was already reported; your confirmation makes ${report.confirmations}. Its link: `, link]));
  } catch (error) {
    flagError.textContent = error.message;
    offerSuggestions(error, flagClass, $('flag-suggestions'));
  } finally {
    flagSubmit.disabled = false;
    flagSubmit.textContent = 'Submit flag';
  }
}

/** Wires Flag (enabled while there is an image), its dialog and the dialog's form. */
export function setUpReporting() {
  const flag = $('flag');
  const dialog = $('flag-dialog');
  onImageChange(() => { flag.disabled = !current(); });
  flag.addEventListener('click', () => {
    if (!current()) return;
    $('flag-error').textContent = '';
    const expected = firstExpected();
    const flagClass = $('flag-class');
    if (expected && !flagClass.value) flagClass.value = expected.name;
    $('flag-suggestions').hidden = true;
    dialog.showModal();
    flagClass.focus();
  });
  $('flag-cancel').addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => flag.focus());
  $('flag-form').addEventListener('submit', fileReport);
}
