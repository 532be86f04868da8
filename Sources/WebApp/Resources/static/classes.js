// Typing a class name (the expected class, Flag's class): the server's best matches while typing, and its "Did you
// mean" suggestions after it did not know a name.
import { $, element } from './dom.js';
import { queryString } from './api.js';

/**
 * When `error` is the server's unknown_label with suggestions, offers them as buttons in `container` that put the
 * suggested class into `field` in place of the unknown one; otherwise clears `container`.
 */
export function offerSuggestions(error, field, container) {
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

/**
 * While a class is typed, the list of suggestions (#imagenet-classes) holds the server's best matches for its last
 * entry (names and WordNet synonyms: "husky" offers "Siberian husky" and "Eskimo dog"); empty, every class again.
 */
export function setUpClassSuggestions() {
  const list = $('imagenet-classes');
  if (!list) return;
  const allClassOptions = Array.from(list.options, (option) => option.value);
  let lookup = null;
  const suggestClasses = (field) => {
    clearTimeout(lookup);
    lookup = setTimeout(async () => {
      const entries = field.value.split(',');
      const typed = entries[entries.length - 1].trim();
      const before = entries.slice(0, -1).map((entry) => entry.trim()).filter(Boolean);
      const withPrefix = (label) => [...before, label].join(', ');
      if (typed.length < 2) {
        list.replaceChildren(...allClassOptions.map((value) => element('option', { value: withPrefix(value) })));
        return;
      }
      try {
        const response = await fetch(`/api/v1/classes?${queryString({ q: typed, limit: '8' })}`);
        if (!response.ok) return;
        const { classes } = await response.json();
        if (!Array.isArray(classes) || field.value.split(',').pop().trim() !== typed) return;
        list.replaceChildren(...classes.map((entry) => element('option', {
          value: withPrefix(entry.label),
          label: entry.matched && entry.matched !== entry.label ? `${entry.label} (${entry.matched})` : entry.label,
        })));
      } catch {
        // No suggestions while the server cannot be reached; the field still works.
      }
    }, 200);
  };
  for (const field of [$('expected-class'), $('flag-class')]) field.addEventListener('input', () => suggestClasses(field));
}
