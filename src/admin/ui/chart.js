'use strict';
// The stats chart: signups per hour by status, drawn as inline SVG (no library, nothing inline for the CSP).
window.signupChart = (() => {
  const SVG = 'http://www.w3.org/2000/svg';

  function svg(name, attributes, title) {
    const element = document.createElementNS(SVG, name);
    for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
    if (title) {
      const tooltip = document.createElementNS(SVG, 'title');
      tooltip.textContent = title;
      element.append(tooltip);
    }
    return element;
  }

  function axisLabel(x, y, anchor, text) {
    const label = svg('text', { x, y, 'text-anchor': anchor, class: 'axis' });
    label.textContent = text;
    return label;
  }

  /** Stacked bars, one per hour and one segment per status; answers the SVG and its legend. */
  function draw(series, statuses, colours) {
    const width = 720;
    const height = 170;
    const margin = { top: 10, right: 10, bottom: 22, left: 36 };
    const plotWidth = width - margin.left - margin.right;
    const plotHeight = height - margin.top - margin.bottom;
    const max = Math.max(1, ...series.map((hour) => statuses.reduce((sum, status) => sum + hour[status], 0)));
    const slot = plotWidth / Math.max(series.length, 1);
    const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': 'Signups per hour by status', 'data-testid': 'chart-svg' });
    chart.append(svg('line', { x1: margin.left, y1: margin.top + plotHeight, x2: width - margin.right, y2: margin.top + plotHeight, stroke: '#999' }));
    chart.append(axisLabel(margin.left - 6, margin.top + 8, 'end', String(max)), axisLabel(margin.left - 6, margin.top + plotHeight, 'end', '0'));
    series.forEach((hour, index) => {
      const x = margin.left + index * slot + 1;
      const label = new Date(hour.bucket).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
      let y = margin.top + plotHeight;
      for (const status of statuses) {
        if (hour[status] === 0) continue;
        const barHeight = (hour[status] / max) * plotHeight;
        y -= barHeight;
        chart.append(
          svg('rect', { x, y, width: Math.max(slot - 2, 1), height: barHeight, fill: colours[status], 'data-status': status }, `${label}: ${hour[status]} ${status}`),
        );
      }
      if (index % 6 === 0 || index === series.length - 1) chart.append(axisLabel(x + slot / 2, height - 6, 'middle', label));
    });
    const legend = document.createElement('div');
    legend.className = 'legend';
    for (const status of statuses) {
      const item = document.createElement('span');
      const swatch = document.createElement('i');
      swatch.style.background = colours[status];
      item.append(swatch, status);
      legend.append(item);
    }
    return [chart, legend];
  }

  return { draw };
})();
