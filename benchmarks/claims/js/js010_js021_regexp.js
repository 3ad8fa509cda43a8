// JS010 constant-regexp-constructor (ship) and JS021 regex literal in a loop (rejected).
// Claims: new RegExp("const") per iteration vs literal per iteration vs hoisted: 126 / 22 /
// 17 ns (JS010: the constructor is the cost; JS021: a literal in the loop is only 1.3x the
// hoisted one); long pattern, new RegExp per iteration vs hoisted: 285 vs 29 ns (9.7x).
const { bench, ratio } = require('./harness');
const words = Array.from({ length: 1000 }, (_, i) => (i % 3 ? 'item-' + i : 'ITEM_' + i + '@x.org'));
const HOIST = /^[a-z]+-\d+$/;
const a = bench('new RegExp(const) per iteration', () => { let c = 0; for (const w of words) if (new RegExp('^[a-z]+-\\d+$').test(w)) c++; return c; }, { inner: 1000 });
const b = bench('regex literal per iteration', () => { let c = 0; for (const w of words) if (/^[a-z]+-\d+$/.test(w)) c++; return c; }, { inner: 1000 });
const c = bench('hoisted regex', () => { let c = 0; for (const w of words) if (HOIST.test(w)) c++; return c; }, { inner: 1000 });
ratio('new RegExp/literal (JS010)', a, b);
ratio('new RegExp/hoisted', a, c);
ratio('literal/hoisted (JS021)', b, c, 2);
const src = '^(?:[a-z0-9!#$%&\'*+/=?^_`{|}~-]+(?:\\.[a-z0-9!#$%&\'*+/=?^_`{|}~-]+)*)@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\\.)+[a-z]{2,}$';
const H2 = new RegExp(src, 'i');
const d = bench('new RegExp(long const) per iteration', () => { let c = 0; for (const w of words) if (new RegExp(src, 'i').test(w)) c++; return c; }, { inner: 1000 });
const e = bench('hoisted long regex', () => { let c = 0; for (const w of words) if (H2.test(w)) c++; return c; }, { inner: 1000 });
ratio('long: new RegExp/hoisted', d, e);
