// Rejected JS rule: string += in a loop. Claim: V8 ropes make s += piece 2.2-3.3x FASTER than
// parts.push + join (n = 1,000: 15 vs 34 us; n = 100,000: 2.6 vs 8.6 ms).
const { bench, ratio } = require('./harness');
for (const n of [1000, 100000]) {
  const a = bench(`s += piece      n=${n}`, () => { let s = ''; for (let i = 0; i < n; i++) s += 'ab' + i; return s.length; });
  const b = bench(`parts.push;join n=${n}`, () => { const p = []; for (let i = 0; i < n; i++) p.push('ab' + i); return p.join('').length; });
  ratio('join/+= (how much faster += is)', b, a, 2);
}
