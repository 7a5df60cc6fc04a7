// bench/web-ui.sh's browser half: node web-ui.js URL RUNS
// Opens the explore page of service "day" over the last 24 h RUNS times (after one warm-up load of the UI's
// files) and prints the median time from the page's navigation to its drawn flame graph (explore.js's
// kiln:loaded mark), with where it went; then zooms the 100,000-node graph of service "big" into 30 of its
// widest frames and prints the median time per zoom frame. Each figure also as its ratio to the target.
const { open } = require('../tests/web/browser.js');

const [url, runsArg] = process.argv.slice(2);
const RUNS = Number(runsArg) || 3;
const median = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };

(async () => {
	const { browser, page, foreign, errors } = await open(new URL(url).origin);
	const loaded = () => page.waitForSelector('main[data-loaded="1"]', { timeout: 120000 });
	await page.goto(url + '/ui/');
	await loaded();
	const loads = [];
	for (let r = 0; r < RUNS; r++) {
		await page.goto(`${url}/ui/explore?sel=${encodeURIComponent('{service_name="day"}')}&from=now-24h&until=now`);
		await loaded();
		loads.push(await page.evaluate(() => {
			const rs = performance.getEntriesByType('resource').filter((e) => e.name.includes('/render?')).pop();
			const m = Object.fromEntries(performance.getEntriesByType('measure').filter((e) => e.name.startsWith('kiln:')).map((e) => [e.name.slice(5), e.duration]));
			return { drawn: performance.getEntriesByName('kiln:loaded').pop().startTime, requested: rs.requestStart,
				server: rs.responseStart - rs.requestStart, transfer: rs.responseEnd - rs.responseStart, bytes: rs.encodedBodySize,
				json: m.render - rs.duration, parse: m.parse, colors: m.colors, draw: m.draw, table: m.table,
				nodes: window.__kilnFlame.g.n, ticks: window.__kilnFlame.g.total[0] };
		}));
	}
	const l = loads.find((x) => x.drawn === median(loads.map((y) => y.drawn)));
	console.log(`24 h of one service: ${l.nodes} nodes, drawn ${l.drawn.toFixed(0)} ms after navigation ` +
		`(runs: ${loads.map((x) => x.drawn.toFixed(0)).join(', ')} ms)`);
	console.log('  where it went (ms): page and scripts until the request ' + l.requested.toFixed(0) +
		`, server ${l.server.toFixed(0)}, transfer ${l.transfer.toFixed(0)} (${l.bytes} bytes), JSON ${l.json.toFixed(0)}, ` +
		`parse ${l.parse.toFixed(0)}, colours ${l.colors.toFixed(0)}, draw ${l.draw.toFixed(0)}, table ${l.table.toFixed(0)}`);
	console.log(`  ratio to the 1 s target: ${(l.drawn / 1000).toFixed(2)}`);

	await page.goto(`${url}/ui/explore?sel=${encodeURIComponent('{service_name="big"}')}&from=now-1h&until=now&maxNodes=300000&view=flame`);
	await loaded();
	const zoom = await page.evaluate(() => new Promise((resolve) => {
		// zooms into 30 frames of the top three levels (the wide ones, whose views hold the most nodes), each
		// timed twice: the draw itself, and until the next animation frame, so that the browser's paint of the
		// canvas counts (that one cannot go under the display's frame interval)
		const f = window.__kilnFlame, g = f.g, draw = [], frame = [], wide = [];
		for (let i = 1; i < g.n; i++) if (g.level[i] <= 3) wide.push(i);
		let k = 0;
		const step = () => {
			if (k >= 30) { f.focus(0, false); return resolve({ n: g.n, draw, frame }); }
			const t = performance.now();
			f.focus(wide[Math.floor(k++ * wide.length / 30)], false);
			draw.push(performance.now() - t);
			requestAnimationFrame(() => { frame.push(performance.now() - t); setTimeout(step, 0); });
		};
		step();
	}));
	const z = median(zoom.frame);
	console.log(`zoom on a ${zoom.n}-node graph: median ${z.toFixed(1)} ms per frame (max ${Math.max(...zoom.frame).toFixed(1)}), ` +
		`of which the draw ${median(zoom.draw).toFixed(1)} ms (max ${Math.max(...zoom.draw).toFixed(1)})`);
	console.log(`  ratio to the 50 ms target: ${(z / 50).toFixed(2)}`);
	if (foreign.length || errors.length) console.log(`warning: requests elsewhere ${foreign.length}, console errors: ${errors.join(' | ')}`);
	await browser.close();
})().catch((e) => { console.error('bench/web-ui.js: ' + (e.stack || e)); process.exit(1); });
