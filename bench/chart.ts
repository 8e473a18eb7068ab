/** A small horizontal bar chart as SVG (no dependency): one bar per row, value labelled. */
export function barChart(title: string, rows: { label: string; value: number; unit: string }[]): string {
  const width = 760;
  const barHeight = 22;
  const left = 300;
  const max = Math.max(1, ...rows.map((r) => r.value));
  const height = 40 + rows.length * (barHeight + 8);
  const bars = rows
    .map((row, i) => {
      const y = 30 + i * (barHeight + 8);
      const w = Math.max(1, ((width - left - 90) * row.value) / max);
      return `<text x="${left - 8}" y="${y + 15}" text-anchor="end" font-size="12">${escapeXml(row.label)}</text>
<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${barHeight}" fill="#3b82f6"/>
<text x="${left + w + 6}" y="${y + 15}" font-size="12">${row.value.toFixed(1)} ${escapeXml(row.unit)}</text>`;
    })
    .join("\n");
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">
<text x="10" y="18" font-size="14" font-weight="bold">${escapeXml(title)}</text>
${bars}
</svg>
`;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
