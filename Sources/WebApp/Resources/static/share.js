// The box with the link to share a page: the full address, selected on focus, and its Copy button (with a way
// out where the clipboard is blocked).
import { $ } from './dom.js';

export function setUpShareLink() {
  const link = $('share-link');
  if (!link) return;
  const status = $('copy-status');
  link.value = new URL(link.value, window.location.origin).href;
  link.addEventListener('focus', () => link.select());
  $('copy-link').addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(link.value);
    } catch {
      link.select();
      if (!document.execCommand('copy')) {
        status.textContent = 'Copying is blocked here: select the link and copy it yourself.';
        return;
      }
    }
    status.textContent = 'Link copied.';
  });
}
