// Loaded by every page on a licensee's host (branding/base.html).
import htmx from "htmx.org";

// The Content-Security-Policy forbids inline styles and eval: keep htmx within it.
htmx.config.includeIndicatorStyles = false;
htmx.config.allowEval = false;
htmx.config.allowScriptTags = false;
window.htmx = htmx;

// Django's CSRF check for htmx's POSTs: the token is in <meta name="csrf-token">.
document.addEventListener("htmx:configRequest", (event) => {
  const meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) event.detail.headers["X-CSRFToken"] = meta.content;
});

// <form data-confirm="…"> asks before it is sent (without JS it is sent straight away).
document.addEventListener("submit", (event) => {
  const message = event.target.dataset && event.target.dataset.confirm;
  if (message && !window.confirm(message)) event.preventDefault();
});
