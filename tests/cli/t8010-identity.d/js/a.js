// `work` of a.js: one of two functions of that name in two scripts (kiln's frame identity test).
exports.work = function work(n) {
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.sqrt(i);
  return s;
};
