// JS006 array-membership-in-loop. Claims: includes vs Set.has per lookup at n = 5 / 20 / 32 /
// 64 / 1,000: 13 vs 6.5 ns (2.0x) ... 1,750 vs 10 ns (174x), hence the >= 32-element threshold;
// and an inline 8-element literal .includes in a loop costs no allocation penalty worth a hint
// (inline 11.8 / hoisted 14.4 / Set 7.2 ns).
const { bench, ratio } = require('./harness');
const mk = n => Array.from({ length: n }, (_, i) => 'key' + i);
const probes = Array.from({ length: 1000 }, (_, i) => 'key' + ((i * 7919) % 2000)); // ~half present at n = 1000
for (const n of [5, 20, 32, 64, 1000]) {
  const arr = mk(n);
  const set = new Set(arr);
  const a = bench(`includes  n=${n} (per lookup)`, () => { let c = 0; for (const p of probes) if (arr.includes(p)) c++; return c; }, { inner: 1000 });
  const s = bench(`Set.has   n=${n} (per lookup)`, () => { let c = 0; for (const p of probes) if (set.has(p)) c++; return c; }, { inner: 1000 });
  ratio('includes/has', a, s);
}
const words = Array.from({ length: 1000 }, (_, i) => ['GET', 'POST', 'PATCH', 'x' + i][i % 4]);
const LIST = ['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE', 'POST', 'PATCH'];
const SET = new Set(LIST);
const a = bench('inline 8-literal .includes (per lookup)', () => { let c = 0; for (const w of words) if (['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE', 'POST', 'PATCH'].includes(w)) c++; return c; }, { inner: 1000 });
const b = bench('hoisted 8-array .includes (per lookup)', () => { let c = 0; for (const w of words) if (LIST.includes(w)) c++; return c; }, { inner: 1000 });
const c = bench('hoisted Set.has (per lookup)', () => { let c = 0; for (const w of words) if (SET.has(w)) c++; return c; }, { inner: 1000 });
ratio('inline/Set', a, c);
ratio('hoisted array/Set', b, c);
