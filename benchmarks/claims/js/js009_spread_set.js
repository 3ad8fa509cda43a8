// JS009 spread-set-to-search. Claim: [...set].includes(x) vs set.has(x), size 1,000: 43x.
const { bench, ratio } = require('./harness');
const s = new Set(Array.from({ length: 1000 }, (_, i) => i));
const a = bench('[...set].includes(x) size=1000', () => [...s].includes(999) ? 1 : 0);
const b = bench('set.has(x) size=1000', () => s.has(999) ? 1 : 0);
ratio('spread+includes/has', a, b, 0);
