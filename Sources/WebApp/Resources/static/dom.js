// Finding and making the page's elements. Outside text goes into the page as text (textContent), never as HTML.

export const $ = (id) => document.getElementById(id);

/** An element with attributes (`text` sets textContent, `className` the class) and children. */
export function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === 'text') node.textContent = value;
    else if (name === 'className') node.className = value;
    else node.setAttribute(name, value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}
