// The end users' web app and the advisors' console: forms marked
// <form data-api-method="PUT" data-api-url="/api/v1/…" data-then="reload|go:/path/{id}/">
// are sent as JSON to the API; field types come from data-type (int, bool, minor).
import { api, errorText, message, toMinor } from "./lib/api.js";

function fieldValue(field) {
  const type = field.dataset.type;
  if (type === "bool") return field.checked;
  const raw = field.value;
  if (raw === "" && field.dataset.empty === "null") return null;
  if (type === "int") return Number.parseInt(raw, 10);
  if (type === "minor") return toMinor(raw, Number(field.dataset.exponent || 2));
  return raw;
}

function formBody(form) {
  const body = {};
  for (const field of form.querySelectorAll("input[name], textarea[name], select[name]")) {
    if (field.disabled) continue;
    if ((field.type === "radio" || (field.type === "checkbox" && field.dataset.type !== "bool"))
      && !field.checked) continue;
    const value = fieldValue(field);
    if (Number.isNaN(value)) return { invalid: field };
    // "rates.chat" fills body.rates.chat: an object of fields.
    const [name, key] = field.name.split(".", 2);
    if (key) body[name] = { ...(body[name] || {}), [key]: value };
    else body[name] = value;
  }
  return { body };
}

function fill(template, data) {
  return template.replace(/\{(\w+)\}/g, (_, key) => encodeURIComponent(String(data?.[key] ?? "")))
    .replace(/%3A/gi, ":").replace(/%2F/gi, "/");
}

document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.dataset.apiUrl) return;
  event.preventDefault();
  const confirmText = form.dataset.apiConfirm;
  if (confirmText && !window.confirm(confirmText)) return;
  const error = form.querySelector('[data-role="error"]');
  if (error) error.textContent = "";
  form.querySelectorAll("[aria-invalid]").forEach((node) => node.removeAttribute("aria-invalid"));
  const { body, invalid } = formBody(form);
  if (invalid) {
    invalid.setAttribute("aria-invalid", "true");
    invalid.focus();
    if (error) error.textContent = message("invalid_input");
    return;
  }
  const button = form.querySelector('button[type="submit"]');
  if (button) button.disabled = true;
  try {
    const method = form.dataset.apiMethod || "POST";
    const hasBody = Object.keys(body).length > 0 || method !== "DELETE";
    const data = await api(method, form.dataset.apiUrl, hasBody ? body : undefined);
    const then = form.dataset.then || "reload";
    if (then.startsWith("go:")) {
      const target = then.slice(3);
      window.location.assign(target === "{url}" ? data.url : fill(target, data));
    } else {
      window.location.reload();
    }
  } catch (failure) {
    if (failure.field) {
      const named = form.querySelector(`[name="${CSS.escape(failure.field)}"]`);
      if (named) named.setAttribute("aria-invalid", "true");
    }
    if (error) error.textContent = errorText(failure);
    if (button) button.disabled = false;
  }
});
