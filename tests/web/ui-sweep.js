// The longer web UI sweep (scripts/check-web-long.sh): a 100,000-leaf flame graph's load-to-drawn time and
// per-frame zoom time, the phone width (no sideways scrolling) and the dark theme, with screenshots.
// node ui-sweep.js URL OUTDIR QUERY_SELECTOR
const { chromium } = require('playwright-core');
const path = require('path');

const [url, out, sel] = process.argv.slice(2);
let failed = 0;
const check = (name, cond, why) => { console.log(cond ? `ok ${name}` : `FAIL ${name}: ${why}`); if (!cond) failed++; };

(async () => {
	const browser = await chromium.launch({
		executablePath: process.env.KILN_CHROMIUM || '/usr/bin/chromium',
		args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
	});
	const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
	const errors = [];
	page.on('pageerror', (e) => errors.push(String(e)));
	page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
	const explore = `${url}/ui/explore?sel=${encodeURIComponent(sel)}&from=now-1h&until=now&maxNodes=300000`;
	await page.goto(`${url}/ui/`);
	const t0 = Date.now();
	await page.goto(explore);
	await page.waitForSelector('main[data-loaded="1"]', { timeout: 60000 });
	const loadMs = Date.now() - t0;
	const info = await page.evaluate(() => ({ n: window.__kilnFlame.g.n, draw: window.__kilnFlame.drawMs }));
	console.log(`# ${info.n} nodes: page to drawn flame graph ${loadMs} ms, one full draw ${info.draw.toFixed(1)} ms`);
	// where the load went: the render request (server until its first byte, then the transfer), the JSON parse
	// (the rest of api.render), then the page's own steps (flame.js and explore.js user-timing measures)
	const parts = await page.evaluate(() => {
		const r = performance.getEntriesByType('resource').filter((e) => e.name.includes('/render?')).pop();
		const m = Object.fromEntries(performance.getEntriesByType('measure').filter((e) => e.name.startsWith('kiln:')).map((e) => [e.name.slice(5), e.duration]));
		const nav = performance.getEntriesByType('navigation')[0];
		return { scripts: r.startTime - nav.startTime, server: r.responseStart - r.requestStart, transfer: r.responseEnd - r.responseStart,
			bytes: r.encodedBodySize, json: m.render - (r.responseEnd - r.startTime), parse: m.parse, colors: m.colors, draw: m.draw, table: m.table };
	});
	console.log('# load breakdown (ms): ' + Object.entries(parts).map(([k, v]) => `${k} ${k === 'bytes' ? v : v.toFixed(0)}`).join(', '));
	check('the graph holds over 100,000 nodes', info.n > 100000, String(info.n));
	const zoom = await page.evaluate(() => {
		const f = window.__kilnFlame, g = f.g, times = [];
		for (let k = 1; k <= 30; k++) {
			const i = Math.floor(k * g.n / 31);
			const t = performance.now();
			f.focus(i, false);
			times.push(performance.now() - t);
		}
		f.focus(0, false);
		times.sort((a, b) => a - b);
		return { median: times[15], max: times[29] };
	});
	console.log(`# zoom: median ${zoom.median.toFixed(1)} ms, max ${zoom.max.toFixed(1)} ms per frame`);
	check('zoom on the 100k-node graph: <= 50 ms per frame (median)', zoom.median <= 50, JSON.stringify(zoom));
	await page.screenshot({ path: path.join(out, 'big-1280x800.png') });

	await page.setViewportSize({ width: 390, height: 844 });
	await page.waitForTimeout(300);
	const over = await page.evaluate(() => document.documentElement.scrollWidth);
	check('phone width: no sideways scrolling', over <= 391, String(over));
	await page.screenshot({ path: path.join(out, 'phone-390.png'), fullPage: false });

	await page.setViewportSize({ width: 1280, height: 800 });
	await page.click('#theme');
	const dark = await page.evaluate(() => document.documentElement.dataset.theme);
	if (dark !== 'dark') await page.click('#theme');
	await page.goto(explore.replace('maxNodes=300000', 'maxNodes=2000') + '&search=f3_');
	await page.waitForSelector('main[data-loaded="1"]', { timeout: 60000 });
	check('dark theme persists across loads', await page.evaluate(() => document.documentElement.dataset.theme) === 'dark', '');
	await page.screenshot({ path: path.join(out, 'dark-1280x800.png') });
	check('no console errors', errors.length === 0, errors.join(' | '));
	await browser.close();
	process.exit(failed ? 1 : 0);
})().catch((e) => { console.log('FAIL the browser run: ' + (e.stack || e)); process.exit(1); });
