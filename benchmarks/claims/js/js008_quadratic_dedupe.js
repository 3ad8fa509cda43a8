// JS008 quadratic-dedupe. Claim: filter((x, i) => a.indexOf(x) === i) vs [...new Set(a)]:
// 2.9x / 29x / 139x at n = 100 / 1,000 / 10,000 (half the values duplicated).
const { bench, ratio } = require('./harness');
for (const n of [100, 1000, 10000]) {
  const xs = Array.from({ length: n }, (_, i) => 'v' + (i % Math.ceil(n / 2)));
  const a = bench(`filter+indexOf dedupe n=${n}`, () => xs.filter((x, i) => xs.indexOf(x) === i).length, { minMs: 400, warm: 1 });
  const b = bench(`[...new Set()] dedupe n=${n}`, () => [...new Set(xs)].length);
  ratio('filter/Set', a, b);
}
