// Tiny benchmark harness shared by the scripts in this folder (issue 16 plan,
// docs/plans/js-ts-go-rules.md). bench() warms fn up, then calls it in a loop until minMs
// have passed, prints and returns ns per op. `inner` divides by the number of operations one
// call performs (1,000 lookups per call amortise the ~45 ns call overhead).
let sink = 0;

function fmt(ns) {
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(2)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(2)} us`;
  return `${ns.toFixed(1)} ns`;
}

function bench(name, fn, { minMs = 300, inner = 1, warm = 3 } = {}) {
  for (let i = 0; i < warm; i++) sink ^= fn() | 0;
  let ops = 0;
  const t0 = process.hrtime.bigint();
  let t;
  do {
    sink ^= fn() | 0;
    ops++;
    t = process.hrtime.bigint();
  } while (Number(t - t0) / 1e6 < minMs);
  const ns = Number(t - t0) / (ops * inner);
  console.log(`${name.padEnd(46)} ${fmt(ns)}/op`);
  return ns;
}

function ratio(label, slow, fast, digits = 1) {
  console.log(`  -> ${label} ${(slow / fast).toFixed(digits)}x`);
}

module.exports = { bench, ratio, get sink() { return sink; } };
