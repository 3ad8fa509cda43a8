// JS004 reduce-spread-accumulator and JS005 copy-accumulate-in-loop. Claims: reduce with
// [...acc, x] vs push: 24x / 98x / 1,585x at n = 100 / 1,000 / 10,000; reduce with
// {...acc, [k]: v} vs assignment: 35x / 367x / 1,116x at n = 100 / 1,000 / 2,000.
const { bench, ratio } = require('./harness');
for (const n of [100, 1000, 10000]) {
  const xs = Array.from({ length: n }, (_, i) => i);
  const a = bench(`reduce [...acc, x]  n=${n}`, () => xs.reduce((acc, x) => [...acc, x], []).length, { minMs: 400, warm: 1 });
  const b = bench(`reduce acc.push(x)  n=${n}`, () => xs.reduce((acc, x) => { acc.push(x); return acc; }, []).length);
  ratio('spread/push', a, b, 0);
}
for (const n of [100, 1000, 2000]) {
  const xs = Array.from({ length: n }, (_, i) => 'k' + i);
  const a = bench(`reduce {...acc,[k]:v} n=${n}`, () => Object.keys(xs.reduce((acc, k) => ({ ...acc, [k]: 1 }), {})).length, { minMs: 400, warm: 1 });
  const b = bench(`reduce acc[k]=v      n=${n}`, () => Object.keys(xs.reduce((acc, k) => { acc[k] = 1; return acc; }, {})).length);
  ratio('spread/assign', a, b, 0);
}
