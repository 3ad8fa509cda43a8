// JS016 shift-queue (later). Claims: draining a full queue with shift() vs a head index is
// 8.5x / 5.8x / 6.1x / 62x / 170x at n = 1k / 10k / 15k / 16k / 50k (O(1) shifts up to ~16k
// elements, O(n) above; 17k printed to show the step); a steady queue of ~100 pending with
// 1e5 push+shift is only 2.1x (3.9 vs 1.9 ms): not worth a hint.
const { bench, ratio } = require('./harness');
for (const n of [1000, 10000, 15000, 16000, 17000, 50000]) {
  const a = bench(`shift drain n=${n}`, () => { const q = []; for (let i = 0; i < n; i++) q.push(i); let s = 0; while (q.length) s += q.shift(); return s; }, { minMs: 300, warm: 1 });
  const b = bench(`index drain n=${n}`, () => { const q = []; for (let i = 0; i < n; i++) q.push(i); let s = 0, h = 0; while (h < q.length) s += q[h++]; return s; });
  ratio('shift/index', a, b);
}
const a = bench('steady queue ~100 pending, 1e5 ops shift', () => { const q = []; for (let i = 0; i < 100; i++) q.push(i); let s = 0; for (let i = 0; i < 1e5; i++) { q.push(i); s += q.shift(); } return s; });
const b = bench('steady queue ~100 pending, 1e5 ops index', () => { const q = []; for (let i = 0; i < 100; i++) q.push(i); let s = 0, h = 0; for (let i = 0; i < 1e5; i++) { q.push(i); s += q[h++]; } return s; });
ratio('steady shift/index', a, b);
