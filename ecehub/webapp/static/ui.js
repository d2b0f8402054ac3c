// Small DOM helpers: every element is built with h(), never from HTML strings, so data
// from the API is always text (no injection) and the page needs no inline script.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2).toLowerCase(), value);
    else if (name === "className") el.className = value;
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export function say(message) {
  // Announced to screen readers (the live region in index.html).
  clear(document.getElementById("live"), message);
}

export function orDash(value) {
  return value === null || value === undefined || value === "" ? "—" : value;
}

let fieldCounter = 0;

/** A labelled form control: <label for> + the control (input, select or textarea). */
export function field(labelText, control) {
  fieldCounter += 1;
  const id = control.id || `f${fieldCounter}`;
  control.id = id;
  return h("div", { className: "field" }, h("label", { for: id }, labelText), control);
}

export function select(name, options, value = "") {
  return h(
    "select",
    { name },
    options.map(([optionValue, text]) =>
      h("option", { value: optionValue, selected: optionValue === value }, text),
    ),
  );
}

/** A table in a scroll box that takes keyboard focus (wide tables scroll on a tablet). */
export function table(caption, headers, rows) {
  const inner = h(
    "table",
    {},
    h("caption", {}, caption),
    h("thead", {}, h("tr", {}, headers.map((text) => h("th", { scope: "col" }, text)))),
    h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map((cell) => h("td", {}, cell))))),
  );
  return h("div", { className: "scroll", tabindex: "0", role: "group", "aria-label": caption }, inner);
}

export function panel(title, ...body) {
  const heading = h("h2", {}, title);
  return h("section", { className: "panel", "aria-label": title }, heading, ...body);
}

export function notice(kind, ...text) {
  return h("p", { className: `notice ${kind}`, role: kind === "error" ? "alert" : null }, ...text);
}

export function money(totals) {
  if (!totals || totals.length === 0) return "—";
  return totals.map((t) => `${Number(t.amount).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })} ${t.currency}`).join(" + ");
}
