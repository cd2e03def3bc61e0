// The depth chart's price range, apart from the chart so Node's test runner can load it (no imports).

/** How far from the centre price a level may lie and still be drawn where it is. */
export const SPAN_FACTOR = 5;

/**
 * The depth chart's price range: around the last clearing price (or, in an epoch that filled
 * nothing, the median level price), from a fifth of it to five times it, narrowed to the levels inside, with
 * a margin. One far-out order (a $99 limit in a $2 market) would otherwise squeeze every other level
 * into a sliver; it is drawn at the edge instead, and counted in {@code below} / {@code above}
 * (levels, and the farthest price).
 */
export function span(levels, last) {
  if (!levels.length) return { minX: 0, maxX: 1, below: { levels: 0 }, above: { levels: 0 } };
  let centre = last;
  if (centre === null || !(centre > 0)) {
    // the median level, each level once whatever its size: one far-out order, however many
    // nodes it asks for, cannot move it
    const sorted = levels.map((l) => l.price).sort((a, b) => a - b);
    centre = sorted[Math.floor((sorted.length - 1) / 2)];
  }
  const inside = (x) => centre <= 0 || (x >= centre / SPAN_FACTOR && x <= centre * SPAN_FACTOR);
  const kept = levels.filter((l) => inside(l.price)).map((l) => l.price);
  const lo = Math.min(centre, ...kept);
  const hi = Math.max(centre, ...kept);
  const pad = Math.max((hi - lo) * 0.15, hi * 0.05, 0.05);
  const minX = Math.max(0, lo - pad);
  const maxX = hi + pad;
  const below = levels.filter((l) => l.price < minX).map((l) => l.price);
  const above = levels.filter((l) => l.price > maxX).map((l) => l.price);
  return {
    minX,
    maxX,
    below: { levels: below.length, far: below.length ? Math.min(...below) : null },
    above: { levels: above.length, far: above.length ? Math.max(...above) : null },
  };
}
