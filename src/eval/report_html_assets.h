// report.html's fixed style and script (the data they draw is embedded per report as JSON).
// Kept apart from the C++ that writes the page so each can be read on its own.
#pragma once

namespace lathe::eval::report_html_assets {

inline constexpr const char* kStyle = R"css(
:root { --fg: #1d2430; --muted: #5b6472; --line: #d9dee5; --bg: #ffffff; --panel: #f6f8fa;
        --better: #1a7f37; --worse: #c62828; --same: #6e7781; --mark: #fff3a3; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color: var(--fg); background: var(--bg); }
header, main { max-width: 1240px; margin: 0 auto; padding: 0 20px; }
header { padding-top: 20px; }
h1 { font-size: 24px; margin: 0 0 6px; }
h2 { font-size: 19px; margin: 28px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 16px 0 8px; }
.meta { color: var(--muted); margin: 0; }
.meta span { margin-right: 16px; }
nav { margin: 10px 0 0; }
nav a { margin-right: 14px; color: #0b57d0; text-decoration: none; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; }
th, td { border: 1px solid var(--line); padding: 6px 8px; text-align: left; vertical-align: top; }
th { background: var(--panel); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 13px; color: #fff; white-space: nowrap; }
.badge.better { background: var(--better); } .badge.worse { background: var(--worse); }
.badge.same { background: var(--same); }
.verdicts { display: flex; flex-wrap: wrap; gap: 8px; margin: 8px 0 12px; }
.verdict-card { border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; background: var(--panel); min-width: 170px; }
.verdict-card .metric { font-weight: 600; }
.verdict-card .diff { color: var(--muted); font-size: 13px; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(280px, 1fr)); gap: 14px; }
.chart { border: 1px solid var(--line); border-radius: 6px; padding: 8px; }
.chart h3 { margin: 0 0 4px; font-size: 14px; }
.chart .canvas-box { position: relative; height: 210px; }
.chart.wide .canvas-box { height: 300px; }
.note { color: var(--muted); font-size: 13px; }
.no-charts-note { border: 1px solid var(--worse); color: var(--worse); padding: 8px 12px; border-radius: 6px; }
#answers-table td.answer .text, #answers-table td.prompt .text { white-space: pre-wrap; word-break: break-word; }
#answers-table td.prompt { width: 26%; }
#answers-table .cat { color: var(--muted); font-size: 12px; }
#answers-table .scores { color: var(--muted); font-size: 12px; margin-top: 4px; }
#answers-table td.lost { background: #fdecec; }
#answers-table td.won { background: #eaf6ec; }
#answers-table td.failed .text { color: var(--worse); }
#answers-table.losses-only tbody tr:not(.loss) { display: none; }
mark { background: var(--mark); padding: 0 1px; }
details summary { cursor: pointer; color: var(--muted); font-size: 12px; }
.kw { font-size: 12px; color: var(--muted); margin-top: 4px; }
.filter { margin: 6px 0; }
)css";

// Chart.js has no error bars: the "whiskers" plugin draws each bar's interval (dataset.intervals,
// [low, high] per bar) after the bars. Animation is off so the charts are complete at load (for
// printing, screenshots and the headless test).
inline constexpr const char* kScript = R"js(
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var whiskers = {
    id: 'whiskers',
    afterDatasetsDraw: function (chart) {
      var ctx = chart.ctx, y = chart.scales.y;
      chart.data.datasets.forEach(function (ds, di) {
        var meta = chart.getDatasetMeta(di);
        if (!ds.intervals || meta.hidden) return;
        meta.data.forEach(function (bar, i) {
          var iv = ds.intervals[i];
          if (!iv || iv[0] === null || iv[1] === null) return;
          var top = y.getPixelForValue(iv[1]), bottom = y.getPixelForValue(iv[0]);
          var half = Math.max(3, Math.min(10, bar.width / 4));
          ctx.save();
          ctx.strokeStyle = '#1d2430';
          ctx.lineWidth = 1.5;
          ctx.beginPath();
          ctx.moveTo(bar.x, top); ctx.lineTo(bar.x, bottom);
          ctx.moveTo(bar.x - half, top); ctx.lineTo(bar.x + half, top);
          ctx.moveTo(bar.x - half, bottom); ctx.lineTo(bar.x + half, bottom);
          ctx.stroke();
          ctx.restore();
        });
      });
    }
  };
  function yScale(info) {
    var s = { beginAtZero: true, ticks: { precision: 2 } };
    if (info && info.max !== null && info.max !== undefined) s.max = info.max;
    return s;
  }
  function tooltip(ds, i) {
    var iv = ds.intervals && ds.intervals[i];
    return iv ? ' 95% CI [' + iv[0].toFixed(3) + ', ' + iv[1].toFixed(3) + ']' : '';
  }
  function barChart(id, labels, datasets, y, legend) {
    var canvas = document.getElementById(id);
    if (!canvas) return null;
    // The axis must hold the whiskers too, which Chart.js does not know about.
    if (y.max === undefined) {
      var hi = null, lo = null;
      datasets.forEach(function (ds) {
        (ds.intervals || []).forEach(function (iv) {
          if (!iv || iv[0] === null || iv[1] === null) return;
          hi = hi === null ? iv[1] : Math.max(hi, iv[1]);
          lo = lo === null ? iv[0] : Math.min(lo, iv[0]);
        });
      });
      if (hi !== null) y.suggestedMax = hi;
      if (lo !== null && lo < 0) y.suggestedMin = lo;
    }
    return new Chart(canvas, {
      type: 'bar',
      data: { labels: labels, datasets: datasets },
      options: {
        animation: false, responsive: true, maintainAspectRatio: false,
        plugins: {
          legend: { display: legend },
          tooltip: { callbacks: { afterLabel: function (c) { return tooltip(c.dataset, c.dataIndex); } } }
        },
        scales: { y: y }
      },
      plugins: [whiskers]
    });
  }
  var labels = data.models.map(function (m) { return m.label; });
  var colors = data.models.map(function (m) { return m.color; });
  var means = function (vs) { return vs.map(function (v) { return v ? v.mean : null; }); };
  var intervals = function (vs) { return vs.map(function (v) { return v ? [v.low, v.high] : null; }); };
  if (typeof Chart === 'undefined') {
    document.body.classList.add('no-charts');
  } else {
    data.metrics.forEach(function (m, k) {
      barChart('chart-metric-' + k, labels,
               [{ label: m.name, data: means(m.values), intervals: intervals(m.values), backgroundColor: colors }],
               yScale(m), false);
    });
    var select = document.getElementById('category-metric'), categoryChart = null;
    var drawCategories = function () {
      var name = select.value, per = data.categories.values[name], info = data.metrics.find(function (m) { return m.name === name; });
      var datasets = data.models.map(function (model, i) {
        return { label: model.label, backgroundColor: model.color, data: means(per[i]), intervals: intervals(per[i]) };
      });
      if (categoryChart) categoryChart.destroy();
      categoryChart = barChart('chart-categories', data.categories.labels, datasets, yScale(info), true);
    };
    if (select && data.categories.labels.length) {
      select.addEventListener('change', drawCategories);
      drawCategories();
    }
    if (data.latency.labels.length) {
      barChart('chart-latency', data.latency.labels, data.models.map(function (model, i) {
        return { label: model.label, backgroundColor: model.color, data: data.latency.counts[i] };
      }), { beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: 'answers' } }, true);
    }
    if (data.human) {
      barChart('chart-human', data.human.criteria, data.models.map(function (model, i) {
        return { label: model.label, backgroundColor: model.color, data: data.human.means[i] };
      }), { beginAtZero: true, max: 5 }, true);
    }
  }
  var box = document.getElementById('losses-only');
  if (box) {
    box.addEventListener('change', function () {
      document.getElementById('answers-table').classList.toggle('losses-only', box.checked);
    });
  }
})();
)js";

}  // namespace lathe::eval::report_html_assets
