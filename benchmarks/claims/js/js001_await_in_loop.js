// JS001 await-in-loop. Claim: sequential await over 20 independent 5 ms operations vs
// Promise.all: 105 ms vs 6 ms (17.5x).
const sleep = ms => new Promise(r => setTimeout(r, ms));
(async () => {
  const items = Array.from({ length: 20 }, (_, i) => i);
  let t = Date.now();
  for (const _item of items) await sleep(5); // independent items, one at a time
  const seq = Date.now() - t;
  t = Date.now();
  await Promise.all(items.map(() => sleep(5)));
  const par = Date.now() - t;
  console.log(`sequential await 20 x 5 ms: ${seq} ms; Promise.all: ${par} ms`);
  console.log(`  -> sequential/Promise.all ${(seq / par).toFixed(1)}x`);
})();
