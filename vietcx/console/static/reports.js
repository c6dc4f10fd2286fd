// Draws the report's charts with Chart.js (vendored in static/vendor/, no CDN). The figures come
// from the page's JSON block, computed on the server by the same functions as the CLI reports.
(() => {
  const source = document.getElementById("report-data");
  if (!source || !window.Chart) return;
  const colors = ["#0a6cff", "#1b7f3b", "#c62828", "#8a5a00", "#6a1b9a"];
  const moods = { "Tiêu cực": "#d9534f", "Trung lập": "#adb5bd", "Tích cực": "#28a745" };
  for (const chart of JSON.parse(source.textContent)) {
    const canvas = document.getElementById(chart.id);
    if (!canvas) continue;
    const datasets = chart.datasets.map((set, n) => ({
      label: set.label,
      data: chart.percent ? set.data.map((v) => (v === null ? null : Math.round(v * 1000) / 10)) : set.data,
      backgroundColor: moods[set.label] || colors[n % colors.length],
      borderColor: moods[set.label] || colors[n % colors.length],
      spanGaps: true,
    }));
    const stacked = Boolean(chart.percent);
    canvas.chart = new window.Chart(canvas, {
      type: chart.type,
      data: { labels: chart.labels, datasets },
      options: {
        animation: false,
        responsive: true,
        scales: {
          x: { stacked },
          y: { stacked, beginAtZero: true, ...(chart.percent ? { max: 100, ticks: { callback: (v) => `${v}%` } } : {}) },
        },
        plugins: { legend: { display: datasets.length > 1 } },
      },
    });
  }
})();
