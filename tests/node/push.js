// Runs the real @pyroscope/nodejs client against a server for a while, burning CPU under a label, and writes
// one line per upload the client made ("STATUS FROM UNTIL wall|heap") to OUT, by watching its fetch calls.
// Usage: node push.js URL APP SECONDS FLUSH_MS RUN_TAG OUT
'use strict';
const fs = require('fs');
const [url, app, secs, flushMs, run, out] = process.argv.slice(2);
const uploads = [];
const realFetch = globalThis.fetch;
globalThis.fetch = async (target, opts) => {
	const u = new URL(target.toString());
	try {
		const r = await realFetch(target, opts);
		uploads.push(`${r.status} ${u.searchParams.get('from')} ${u.searchParams.get('until')} ` +
			`${u.searchParams.get('sampleRate') ? 'wall' : 'heap'}`);
		return r;
	} catch (e) {
		uploads.push(`ERR ${u.searchParams.get('from')} ${u.searchParams.get('until')} ${e.message}`);
		throw e;
	}
};
const Pyroscope = require('@pyroscope/nodejs');
Pyroscope.init({ serverAddress: url, appName: app, flushIntervalMs: Number(flushMs), tags: { env: 'test', run },
	wall: { collectCpuTime: true } });
Pyroscope.start(); // wall (with CPU time) and heap, as an application starts it

function hotLoop(ms) {
	const end = Date.now() + ms;
	let x = 0;
	while (Date.now() < end)
		x += Math.sqrt(x + 1);
	return x;
}
const started = Date.now();
const timer = setInterval(() => {
	Pyroscope.wrapWithLabels({ route: '/hot' }, () => hotLoop(40));
	if (Date.now() - started >= Number(secs) * 1000) {
		clearInterval(timer);
		Pyroscope.stop().then(() => {
			fs.writeFileSync(out, uploads.join('\n') + '\n');
			process.exit(0);
		});
	}
}, 50);
