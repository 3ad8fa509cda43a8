// JS017 json-clone (opt-in, correctness only). Claim: structuredClone is 13-25 % SLOWER than
// JSON.parse(JSON.stringify(x)) (small object 2.2 vs 2.5 us; 1,000 records 0.94 vs 1.17 ms),
// so it is not sold as a speed hint.
const { bench, ratio } = require('./harness');
const small = { id: 1, name: 'a', tags: ['x', 'y'], meta: { a: 1, b: 'two', c: [1, 2, 3] }, on: true };
const big = Array.from({ length: 1000 }, (_, i) => ({ id: i, name: 'n' + i, tags: ['a', 'b'], meta: { x: i, y: 'y' + i } }));
for (const [label, v] of [['small object', small], ['1000 records', big]]) {
  const a = bench(`JSON round-trip  ${label}`, () => JSON.parse(JSON.stringify(v)) ? 1 : 0);
  const b = bench(`structuredClone  ${label}`, () => structuredClone(v) ? 1 : 0);
  ratio('structuredClone/JSON', b, a, 2);
}
