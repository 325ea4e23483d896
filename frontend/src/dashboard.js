// The brand editor's live preview: the colours and name typed into the form are shown in the
// preview box at once (as CSS variables on the box, which the CSP allows), before saving.
function livePreview() {
  const form = document.getElementById("brand-form");
  const preview = document.getElementById("brand-preview");
  if (!form || !preview) return;
  const apply = () => {
    const primary = form.elements.primary_color && form.elements.primary_color.value;
    const accent = form.elements.accent_color && form.elements.accent_color.value;
    if (primary) preview.style.setProperty("--brand-primary", primary);
    if (accent) preview.style.setProperty("--brand-accent", accent);
    const name = preview.querySelector('[data-preview="app_name"]');
    if (name && form.elements.app_name) name.textContent = form.elements.app_name.value;
  };
  form.addEventListener("input", apply);
  apply();
}

document.addEventListener("DOMContentLoaded", livePreview);
