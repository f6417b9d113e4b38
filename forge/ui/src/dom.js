// Building the pages' elements without HTML strings: every text from the service goes in as text.
export function el(tag, properties = {}, ...children) {
  const element = Object.assign(document.createElement(tag), properties);
  element.append(...children.filter((child) => child !== null && child !== undefined && child !== false));
  return element;
}

export function show(element, text) {
  element.textContent = text || "";
  element.hidden = !text;
}

export function localTime(iso) {
  if (!iso) return null;
  const date = new Date(iso);
  return el("time", { dateTime: iso, textContent: date.toLocaleString(), title: iso });
}

// A button's action, run with the button disabled; a failure's message shows in ``error``.
export async function whileDisabled(button, action, error, ...alsoCleared) {
  button.disabled = true;
  for (const element of [error, ...alsoCleared]) show(element, "");
  try {
    await action();
  } catch (err) {
    show(error, err.message);
  } finally {
    button.disabled = false;
  }
}
