// The demo's message lines under its buttons: what went wrong loading, sending or classifying the image, and the
// confirmation of a report.
import { $ } from './dom.js';

/** Shows `message` in the page's error box and brings the box into view (on a phone it may be off screen). */
export function showError(message) {
  const box = $('error');
  box.textContent = message;
  if (message) box.scrollIntoView({ block: 'nearest' });
}

/** Shows what happened to a report (text and elements). */
export function showConfirmation(...parts) {
  $('flag-confirmation').replaceChildren(...parts);
}

export function clearMessages() {
  $('error').textContent = '';
  $('flag-confirmation').textContent = '';
}
