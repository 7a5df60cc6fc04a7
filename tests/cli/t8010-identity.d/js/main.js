// Two functions named `work` (a.js, b.js) and two anonymous ones (lines 7 and 12 here) take asked shares of the
// CPU; the script measures each one's CPU time and prints "NAME SHARE" lines (kiln's frame identity test).
const a = require('./a.js');
const b = require('./b.js');
const funcs = [['a.js', a.work], ['b.js', b.work]];
// Function expressions passed in an array literal get no name from V8: they are "(anonymous)".
funcs.push(['main.js:7', function (n) {
  let s = 0;
  for (let i = 0; i < n; i++) s += (i * 31) % 17;
  return s;
}]);
funcs.push(['main.js:12', function (n) {
  let s = 1;
  for (let i = 0; i < n; i++) s = (s * 7 + i) % 1000003;
  return s;
}]);
const seconds = Number(process.argv[2] || 2);
const shares = process.argv.length > 6 ? process.argv.slice(3, 7).map(Number) : [0.4, 0.3, 0.2, 0.1];
const spent = funcs.map(() => 0);
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
const end = cpu() + seconds;
let t = 0;
while (cpu() < end) {
  // Short slices: every function runs in every tenth of a second, in the asked proportion of CPU time.
  for (let k = 0; k < funcs.length; k++) {
    const t0 = cpu();
    while (cpu() - t0 < 0.1 * shares[k]) t += funcs[k][1](20000);
    spent[k] += cpu() - t0;
  }
}
const total = spent.reduce((x, y) => x + y, 0);
funcs.forEach(([name], k) => console.log(name, (100 * spent[k] / total).toFixed(1)));
console.log('pid', process.pid, t > 0);
