// Small SVG charts drawn with createElementNS (no library, nothing inline for the CSP to refuse):
// vertical bars (grouped), lines, and horizontal bars. Colours come from classes in app.css.
// Each chart is an <svg role="img"> with a <title> and a <desc> that reads out the figures, and
// every bar or point carries its own <title> (a tooltip on hover).

import { h, s, uid } from './dom.js';

/**
 * A box that draws `draw(width)` at its own width, and again when that changes: the charts are
 * drawn in real pixels, so their text keeps its size at every screen width.
 */
export function responsive(draw) {
  const box = h('div', { class: 'chart-box' });
  let drawn = 0;
  const observer = new ResizeObserver((entries) => {
    const width = Math.floor(entries[0].contentRect.width);
    if (!width || Math.abs(width - drawn) < 4) return;
    drawn = width;
    box.replaceChildren(draw(width));
  });
  observer.observe(box);
  return box;
}

/** A round maximum for the axis and its step: 0, 5, 10… or 0, 20, 40… */
function niceScale(max, ticks = 4, integer = true) {
  if (!(max > 0)) return { top: ticks, step: 1 };
  const raw = max / ticks;
  const mag = 10 ** Math.floor(Math.log10(raw));
  let step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((x) => x >= raw) || raw;
  if (integer) step = Math.max(1, Math.round(step));
  return { top: step * Math.ceil(max / step), step };
}

function frame(title, description, W, height) {
  const titleId = uid('ct');
  const descId = uid('cd');
  return s('svg', { class: 'chart', width: W, height, viewBox: `0 0 ${W} ${height}`, role: 'img', 'aria-labelledby': `${titleId} ${descId}`, preserveAspectRatio: 'xMidYMid meet' },
    s('title', { id: titleId, text: title }), s('desc', { id: descId, text: description }));
}

function yAxis(svg, { left, right, top, bottom, scale, format }) {
  for (let v = 0; v <= scale.top + 1e-9; v += scale.step) {
    const y = bottom - (v / scale.top) * (bottom - top);
    svg.appendChild(s('line', { class: 'grid', x1: left, x2: right, y1: y, y2: y }));
    svg.appendChild(s('text', { x: left - 8, y: y + 4, 'text-anchor': 'end', text: format(v) }));
  }
  svg.appendChild(s('line', { class: 'axis', x1: left, x2: right, y1: bottom, y2: bottom }));
}

function xLabels(svg, labels, xOf, bottom, width) {
  const every = Math.max(1, Math.ceil(labels.length / Math.max(2, Math.floor(width / 56))));
  const last = labels.length - 1;
  labels.forEach((label, i) => {
    // Every `every`-th label and always the last, leaving out one that would crowd the last.
    if (i !== last && (i % every !== 0 || xOf(last) - xOf(i) < 44)) return;
    svg.appendChild(s('text', { x: xOf(i), y: bottom + 18, 'text-anchor': 'middle', text: label }));
  });
}

/**
 * Grouped vertical bars. `series`: [{name, values, cls, tips?}] (cls: bar-a…bar-e; tips: a tooltip
 * per bar, in place of "label · name: value"), `labels` under the bars. `format` writes the axis'
 * and tooltips' numbers. `scale` ({top, step}) fixes the axis (0 to 5 stars), `description`
 * replaces the figures read out when they say less than a sentence would.
 */
export function barChart({ title, labels, series, width: W = 640, height = 240, format = (v) => String(Math.round(v * 10) / 10), scale: fixed, description }) {
  const max = Math.max(0, ...series.flatMap((x) => x.values));
  const scale = fixed || niceScale(max);
  const box = { left: 44, right: W - 10, top: 12, bottom: height - 30 };
  const summary = description ?? labels.map((l, i) => `${l}: ${series.map((x) => `${x.name} ${format(x.values[i] || 0)}`).join(', ')}`).join('; ');
  const svg = frame(title, summary || 'No data', W, height);
  yAxis(svg, { ...box, scale, format });
  const slot = (box.right - box.left) / Math.max(1, labels.length);
  const barW = Math.max(2, Math.min(48, (slot * 0.6) / series.length));
  labels.forEach((label, i) => {
    series.forEach((x, j) => {
      const v = x.values[i] || 0;
      const hgt = (v / scale.top) * (box.bottom - box.top);
      const xPos = box.left + slot * i + (slot - barW * series.length) / 2 + j * barW;
      svg.appendChild(s('rect', { class: x.cls || 'bar-a', x: xPos, y: box.bottom - hgt, width: Math.max(1, barW - 1), height: Math.max(0, hgt), rx: 2 },
        s('title', { text: x.tips?.[i] ?? `${label} · ${x.name}: ${format(v)}` })));
    });
  });
  xLabels(svg, labels, (i) => box.left + slot * i + slot / 2, box.bottom, W);
  return svg;
}

/** Lines over the same labels; the first series gets a soft area under it. */
export function lineChart({ title, labels, series, width: W = 640, height = 240, format = (v) => String(Math.round(v * 10) / 10) }) {
  const max = Math.max(0, ...series.flatMap((x) => x.values));
  const scale = niceScale(max);
  const box = { left: 44, right: W - 14, top: 12, bottom: height - 30 };
  const summary = series.map((x) => `${x.name}: ${x.values.reduce((a, b) => a + b, 0)} in total, at most ${Math.max(0, ...x.values)} a day`).join('. ');
  const svg = frame(title, summary || 'No data', W, height);
  yAxis(svg, { ...box, scale, format });
  const n = labels.length;
  const xOf = (i) => (n <= 1 ? (box.left + box.right) / 2 : box.left + ((box.right - box.left) * i) / (n - 1));
  const yOf = (v) => box.bottom - (v / scale.top) * (box.bottom - box.top);
  series.forEach((x, j) => {
    const points = x.values.map((v, i) => `${xOf(i).toFixed(1)},${yOf(v).toFixed(1)}`);
    if (!points.length) return;
    if (j === 0 && points.length > 1) {
      svg.appendChild(s('path', { class: 'area-a', d: `M${xOf(0)},${box.bottom} L${points.join(' L')} L${xOf(n - 1)},${box.bottom} Z` }));
    }
    svg.appendChild(s('polyline', { class: x.cls || 'line-a', points: points.join(' '), 'stroke-linejoin': 'round', 'stroke-linecap': 'round' }));
    x.values.forEach((v, i) => {
      svg.appendChild(s('circle', { class: x.dot || 'dot-a', cx: xOf(i), cy: yOf(v), r: n > 40 ? 1.6 : 3 }, s('title', { text: `${labels[i]} · ${x.name}: ${format(v)}` })));
    });
  });
  xLabels(svg, labels, xOf, box.bottom, W);
  return svg;
}

/** Horizontal bars with their labels on the left and values on the right. */
export function hbarChart({ title, items, width: W = 640, format = (v) => String(v), cls = 'bar-a' }) {
  const rowH = 30;
  const height = Math.max(1, items.length) * rowH + 8;
  const max = Math.max(1, ...items.map((x) => x.value));
  // Room for the longest label (about 6.5 px a character at 11 px), within reason.
  const labelW = Math.max(56, Math.min(Math.round(W * 0.4), 14 + 6.5 * Math.max(0, ...items.map((x) => String(x.label).length))));
  const svg = frame(title, items.map((x) => `${x.label}: ${format(x.value)}`).join('; ') || 'No data', W, height);
  items.forEach((x, i) => {
    const y = 4 + i * rowH;
    const w = ((W - labelW - 60) * x.value) / max;
    svg.appendChild(s('text', { x: labelW - 10, y: y + 18, 'text-anchor': 'end', text: x.label }));
    svg.appendChild(s('rect', { class: x.cls || cls, x: labelW, y: y + 5, width: Math.max(x.value ? 2 : 0, w), height: rowH - 12, rx: 3 }, s('title', { text: `${x.label}: ${format(x.value)}` })));
    svg.appendChild(s('text', { class: 'value', x: labelW + Math.max(2, w) + 8, y: y + 18, text: format(x.value) }));
  });
  return svg;
}
