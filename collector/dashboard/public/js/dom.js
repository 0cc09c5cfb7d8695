/**
 * A tiny element builder. Text is always set as text, never parsed as HTML, so names and
 * messages from the server cannot inject markup.
 */
export function h (tag, attrs = {}, ...children) {
  const el = document.createElement(tag)
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue
    if (key === 'class') el.className = Array.isArray(value) ? value.filter(Boolean).join(' ') : value
    else if (key === 'text') el.textContent = String(value)
    else if (key === 'dataset') Object.assign(el.dataset, value)
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value)
    else el.setAttribute(key, value === true ? '' : String(value))
  }
  appendAll(el, children)
  return el
}

export function append (el, ...children) {
  appendAll(el, children)
  return el
}

function appendAll (el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue
    if (Array.isArray(child)) appendAll(el, child)
    else el.append(child instanceof window.Node ? child : document.createTextNode(String(child)))
  }
}

export function clear (el) {
  while (el.firstChild !== null) el.removeChild(el.firstChild)
  return el
}
