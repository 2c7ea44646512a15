/** Small HTML pieces the report's sections share. */

/** Escapes text for HTML element content and attribute values. */
export const escapeHtml = (s: string): string =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** A number with `digits` decimals, or `–` when it is not a number. */
export function fmt(v: number, digits = 3): string {
  return Number.isFinite(v) ? v.toFixed(digits) : "–";
}

/** A headline card: a label, a value and an optional note under it. */
export function card(label: string, value: string, note = ""): string {
  return `<div class="card"><div class="label">${escapeHtml(label)}</div>` +
    `<div class="value">${escapeHtml(value)}</div>` +
    (note ? `<div class="note">${escapeHtml(note)}</div>` : "") + `</div>`;
}
