// Two hot functions for kiln's runtime tests; prints its pid (kiln must remove the perf map it asked for).
function hotSqrt(n) {
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.sqrt(i);
  return s;
}

function hotMod(n) {
  let s = 0;
  for (let i = 0; i < n; i++) s += i % 7;
  return s;
}

const seconds = Number(process.argv[2] || 1.5);
const end = Date.now() + seconds * 1000;
let t = 0;
while (Date.now() < end) {
  t += hotSqrt(200000);
  t += hotMod(200000);
}
console.log(process.pid, t > 0);
