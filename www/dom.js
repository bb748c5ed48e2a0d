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
