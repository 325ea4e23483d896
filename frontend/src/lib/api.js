// Same-origin calls to the licensee's JSON API with the page's session: the CSRF token from
// <meta name="csrf-token"> goes with every unsafe method (identity/auth.py checks it).
const messages = (() => {
  const node = document.getElementById("api-messages");
  try {
    return node ? JSON.parse(node.textContent) : {};
  } catch (error) {
    return {};
  }
})();

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.detail) || `HTTP ${status}`);
    this.status = status;
    this.code = (body && body.code) || "default";
    this.field = (body && body.field) || null;
  }
}

export async function api(method, url, body) {
  const headers = { Accept: "application/json" };
  const meta = document.querySelector('meta[name="csrf-token"]');
  if (method !== "GET" && meta) headers["X-CSRFToken"] = meta.content;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(url, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new ApiError(0, { code: "network" });
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch (error) {
      data = null;
    }
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

export function message(code) {
  return messages[code] || messages.default || code;
}

// What to show a person for an API error, in the page's language when the code is known.
export function errorText(error) {
  if (error instanceof ApiError) {
    // The page's own words for known codes (the API's detail is English only).
    const known = messages[error.code];
    if (known) return known;
    return error.message || messages.default || "Error";
  }
  return messages.default || String(error);
}

export function toMinor(text, exponent) {
  const cleaned = String(text).trim().replace(",", ".");
  if (!/^\d+(\.\d+)?$/.test(cleaned)) return NaN;
  const [whole, fraction = ""] = cleaned.split(".");
  if (fraction.length > exponent) return NaN;
  return Number(whole) * 10 ** exponent + Number(fraction.padEnd(exponent, "0") || 0);
}

export function formatMoney(minor, currency, exponent) {
  const language = document.documentElement.lang || "en";
  return new Intl.NumberFormat(language, { style: "currency", currency }).format(
    minor / 10 ** exponent,
  );
}

export function formatSeconds(total) {
  const minutes = Math.floor(total / 60);
  const seconds = String(total % 60).padStart(2, "0");
  return `${minutes}:${seconds}`;
}
