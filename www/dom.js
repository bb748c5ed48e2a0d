// Building the page's elements: createElement and text nodes only (no HTML strings), shared by the
// view modules (view.js, engagement.js), which each import it; it imports nothing.

/** Builds an element: `h("button", {type: "button", onclick}, "Text")`. Strings become text nodes. */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") el.className = value;
    else if (name === "text") el.textContent = value;
    else if (name.startsWith("on") && typeof value === "function") el.addEventListener(name.slice(2), value);
    else if (PROPERTIES.has(name)) el[name] = value;
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}
const PROPERTIES = new Set(["value", "checked", "hidden", "disabled", "open", "multiple", "selected", "min", "max", "step"]);

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

/**
 * Gives `el` the properties in `props` (`hidden`, `textContent`, ...) that it does not have yet. An
 * unchanged value is not written: writing text, even the same, makes the browser lay it out again.
 */
export function assign(el, props) {
  for (const [name, value] of Object.entries(props)) if (el[name] !== value) el[name] = value;
}

/** Sets attribute `name` of `el` to `value` unless it has it already (see `assign`). */
export function attribute(el, name, value) {
  if (el.getAttribute(name) !== value) el.setAttribute(name, value);
}

let fieldCount = 0;

/** A labelled control; the hint is the control's description, not part of its name. */
export function field(label, control, { hint, className = "field" } = {}) {
  if (!control.id) control.id = `sga-field-${++fieldCount}`;
  const hintEl = hint ? h("span", { class: "field-hint", id: `${control.id}-hint` }, hint) : null;
  if (hintEl) control.setAttribute("aria-describedby", hintEl.id);
  return h("div", { class: className }, h("label", { class: "field-label", for: control.id }, label), control, hintEl);
}

/** An option of a select. */
export function option(value, label, selected = false) {
  return h("option", { value, selected }, label);
}

/**
 * Makes `live`'s children what `fresh`'s are, changing only what differs: a child of the same kind
 * and tag in the same place is kept and brought up to date (its attributes, its text, its own
 * children), any other is replaced. `fresh` is built detached (with `h`) and is used up. Redrawing
 * a table this way leaves unchanged cells alone, so the browser re-lays out only the cells whose
 * text changed instead of every row. The trees must carry no event listeners (`h`'s `on*`): a kept
 * element keeps its own; listen on an ancestor instead.
 */
export function morph(live, fresh) {
  let node = live.firstChild;
  for (let next = fresh.firstChild; next; ) {
    const after = next.nextSibling;
    if (node && same(node, next)) {
      if (node.nodeType === Node.ELEMENT_NODE) {
        syncAttributes(node, next);
        morph(node, next);
      } else if (node.data !== next.data) node.data = next.data;
      node = node.nextSibling;
    } else if (node) {
      const old = node;
      node = node.nextSibling;
      old.replaceWith(next);
    } else live.append(next);
    next = after;
  }
  while (node) {
    const old = node;
    node = node.nextSibling;
    old.remove();
  }
}

/** Whether `next` can be morphed into `node`: both text, or elements of one tag. */
function same(node, next) {
  if (node.nodeType !== next.nodeType) return false;
  return node.nodeType !== Node.ELEMENT_NODE || node.tagName === next.tagName;
}

function syncAttributes(node, next) {
  const have = node.attributes;
  const want = next.attributes;
  for (let i = have.length - 1; i >= 0; i--) if (!next.hasAttribute(have[i].name)) node.removeAttribute(have[i].name);
  for (let i = 0; i < want.length; i++) {
    const { name, value } = want[i];
    attribute(node, name, value);
  }
}
