// The expected-class field: the selected example's classes while its image is loaded, else what was typed, as the
// `expected` of a classification or probe, the `class` of an explanation and Flag's class.
import { $ } from './dom.js';
import { offerSuggestions } from './classes.js';

/** The classes that count as right ({ index, name }) while the selected example's image is loaded, or []. */
let exampleClasses = [];

/** The selected example's expected classes as the expected-class field shows them. */
function exampleExpectedText() {
  return exampleClasses.map((entry) => entry.name).join(', ');
}

/** The example's expected classes count, and the field shows them. */
export function useExample(example) {
  exampleClasses = example.expected || [];
  $('expected-class').value = exampleExpectedText();
}

/** The image is no longer the example's own: its expected classes and the post's answer no longer apply. */
export function leaveExample() {
  const field = $('expected-class');
  if (field.value.trim() === exampleExpectedText()) field.value = '';
  exampleClasses = [];
  const reported = $('reported');
  if (reported) reported.hidden = true;
}

/** The `expected` parameter: the example's class indices while the field still shows them, else what was typed. */
export function expectedParameter() {
  const typed = $('expected-class').value.trim();
  if (exampleClasses.length && typed === exampleExpectedText()) return exampleClasses.map((entry) => entry.index).join(',');
  return typed;
}

/** The first class of the expected-class field, as the `class` of an explanation and Flag's correct class. */
export function firstExpected() {
  const typed = $('expected-class').value.trim();
  if (exampleClasses.length && typed === exampleExpectedText()) return { parameter: String(exampleClasses[0].index), name: exampleClasses[0].name };
  const first = typed.split(',')[0].trim();
  return first ? { parameter: first, name: first } : null;
}

/** Offers the server's suggestions under the field when `error` says it did not know an expected class. */
export function offerExpectedSuggestions(error) {
  offerSuggestions(error, $('expected-class'), $('expected-suggestions'));
}

/** Typing in the field puts the offered suggestions away. */
export function setUpExpectedClass() {
  $('expected-class').addEventListener('input', () => { $('expected-suggestions').hidden = true; });
}
