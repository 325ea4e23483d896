// Draws every <canvas data-chart="id-of-json"> from the JSON in <script type="application/json"
// id="id-of-json"> (Django's json_script: data, not code, so the CSP allows it). The same
// numbers are always on the page as a table, for people without JS or a screen reader.
import Chart from "chart.js/auto";

function brandColour(name, fallback) {
  const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return value || fallback;
}

function draw(canvas) {
  const source = document.getElementById(canvas.dataset.chart);
  if (!source || canvas.chart) return;
  const spec = JSON.parse(source.textContent);
  const primary = brandColour("--brand-primary", "#1f4e79");
  const accent = brandColour("--brand-accent", "#9d2a5b");
  const colours = [primary, accent];
  canvas.chart = new Chart(canvas, {
    type: spec.type || "bar",
    data: {
      labels: spec.labels,
      datasets: spec.datasets.map((dataset, index) => ({
        borderWidth: 2,
        borderColor: colours[index % colours.length],
        backgroundColor: colours[index % colours.length],
        ...dataset,
      })),
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      plugins: { legend: { display: spec.datasets.length > 1 } },
      scales: { y: { beginAtZero: true } },
    },
  });
  canvas.dataset.chartReady = "true";
}

function drawAll(root) {
  root.querySelectorAll("canvas[data-chart]").forEach(draw);
}

document.addEventListener("DOMContentLoaded", () => drawAll(document));
document.addEventListener("htmx:afterSettle", (event) => drawAll(event.target));
