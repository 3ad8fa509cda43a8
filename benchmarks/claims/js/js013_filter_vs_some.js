// JS013 filter-for-existence. Claim: filter(p).length > 0 vs some(p), 10,000 elements, match
// at index 10: 11.4 vs 0.06 us (189x); with no match there is no gain (printed too).
const { bench, ratio } = require('./harness');
const xs = Array.from({ length: 10000 }, (_, i) => i);
const a = bench('filter(p).length > 0 (match at 10)', () => xs.filter(x => x === 10).length > 0 ? 1 : 0);
const b = bench('some(p)              (match at 10)', () => xs.some(x => x === 10) ? 1 : 0);
ratio('filter/some', a, b, 0);
const c = bench('filter(p).length > 0 (no match)', () => xs.filter(x => x === -1).length > 0 ? 1 : 0);
const d = bench('some(p)              (no match)', () => xs.some(x => x === -1) ? 1 : 0);
ratio('filter/some, no match', c, d, 2);
