// Drives Debian's Chromium over kiln serve's web UI (t9600): node ui-check.js URL OUTDIR NOW
// The server holds the profiles that t9600 ingested: service "shop" with
//   before (NOW-3000..NOW-2400): main;handle;parse 30, main;handle;render 10, main;idle 60 (samples at 100 Hz)
//   after  (NOW-1200..NOW-600):  main;handle;parse 70, main;handle;render 10, main;idle 20
// Prints one "ok NAME" or "FAIL NAME: why" line per check; exits 1 on a failure.
const { open, openSpeedscope } = require('./browser.js');
const path = require('path');

const [url, out, nowArg] = process.argv.slice(2);
const NOW = Number(nowArg);
const origin = new URL(url).origin;
let failed = 0;
const check = (name, cond, why) => {
	console.log(cond ? `ok ${name}` : `FAIL ${name}: ${why}`);
	if (!cond) failed++;
};
const near = (a, b) => Math.abs(a - b) < 1e-6;

(async () => {
	const { browser, page, foreign, errors } = await open(origin);
	const loaded = () => page.waitForSelector('main[data-loaded="1"]', { timeout: 15000 });

	// services: the service is listed with a sparkline, and its link opens the explore page
	await page.goto(url + '/ui/');
	await loaded();
	const svc = await page.$$eval('table.services tbody tr', (rows) => rows.map((r) => [r.cells[0].textContent, !!r.querySelector('svg polyline')]));
	check('services lists "shop" with a sparkline', svc.some(([n, s]) => n === 'shop' && s), JSON.stringify(svc));
	await page.click('table.services a:text-is("shop")');
	await page.waitForURL(/\/ui\/explore\?/);
	await loaded();

	// explore, whole range: parse is 100 of 200 samples, handle 120 of 200
	const q = `from=${NOW - 3600}&until=${NOW}`;
	await page.goto(`${url}/ui/explore?sel=${encodeURIComponent('{service_name="shop"}')}&${q}`);
	await loaded();
	let parse = await page.evaluate(() => window.__kilnFlame.find('parse'));
	check('flame graph: main;handle;parse holds 50% of the total', parse.length === 1 && parse[0].path === 'main;handle;parse' &&
		near(parse[0].share, 0.5), JSON.stringify(parse));
	const handle = await page.evaluate(() => window.__kilnFlame.find('handle'));
	check('flame graph: handle holds 60%', handle.length === 1 && near(handle[0].share, 0.6), JSON.stringify(handle));
	check('handle is drawn 60% of the width', Math.abs(handle[0].px.w / (await page.evaluate(() => document.querySelector('.flame-canvas').getBoundingClientRect().width)) - 0.6) < 0.01,
		JSON.stringify(handle[0].px));

	// search: "render" matches 10% (20 of 200); the table is filtered to it; the URL carries it
	await page.keyboard.press('/');
	await page.keyboard.type('rend');
	const share = await page.$eval('.matched', (o) => Number(o.dataset.share));
	check('search "rend" highlights 10% (matched %)', near(share, 0.1), String(share));
	const rows = await page.$$eval('table.top tbody td.fn', (t) => t.map((x) => x.textContent));
	check('the top table is filtered by the search', rows.length === 1 && rows[0] === 'render', JSON.stringify(rows));
	check('the URL carries the search', new URL(page.url()).searchParams.get('search') === 'rend', page.url());

	// click-to-focus, then reload: the focus and the search come back from the URL
	await page.mouse.click(handle[0].px.x + handle[0].px.w / 2 + (await page.$eval('.flame-canvas', (c) => c.getBoundingClientRect().left)),
		handle[0].px.y + (await page.$eval('.flame-canvas', (c) => c.getBoundingClientRect().top)));
	await page.waitForURL(/focus=/, { timeout: 5000 }).catch(() => {});
	check('click on handle puts focus=main;handle in the URL', new URL(page.url()).searchParams.get('focus') === 'main;handle', page.url());
	const focused = await page.evaluate(() => window.__kilnFlame.find('parse')[0].px.w / document.querySelector('.flame-canvas').getBoundingClientRect().width);
	check('focused on handle, parse fills 100/120 of the width', Math.abs(focused - 1000 / 1200) < 0.01, String(focused));
	await page.reload();
	await loaded();
	const again = await page.evaluate(() => ({ w: window.__kilnFlame.find('parse')[0].px.w / document.querySelector('.flame-canvas').getBoundingClientRect().width,
		s: document.querySelector('.search-input').value, m: Number(document.querySelector('.matched').dataset.share) }));
	check('reload restores the focus and the search', Math.abs(again.w - 1000 / 1200) < 0.01 && again.s === 'rend' && near(again.m, 0.1), JSON.stringify(again));
	await page.keyboard.press('Escape');
	check('Esc resets the zoom', !new URL(page.url()).searchParams.get('focus'), page.url());
	await page.goBack();
	await loaded();
	check('back returns to the focused view', new URL(page.url()).searchParams.get('focus') === 'main;handle', page.url());
	await page.screenshot({ path: path.join(out, 'explore-1280x800.png') });

	// brush the timeline over the "after" window only: parse is 70 of 100 there
	const box = await page.$eval('.timeline-canvas', (c) => { const r = c.getBoundingClientRect(); return { x: r.left, y: r.top, w: r.width, h: r.height }; });
	const xOf = (t) => box.x + (t - (NOW - 3600)) / 3600 * box.w;
	await page.mouse.move(xOf(NOW - 1300), box.y + box.h / 2);
	await page.mouse.down();
	await page.mouse.move(xOf(NOW - 500), box.y + box.h / 2, { steps: 5 });
	await page.mouse.up();
	await loaded();
	parse = await page.evaluate(() => window.__kilnFlame.find('parse'));
	const u = new URL(page.url()).searchParams;
	check('brushing the timeline narrows from/until and the flame graph follows (parse 70%)',
		Number(u.get('from')) > NOW - 1400 && Number(u.get('until')) < NOW - 400 && parse.length === 1 && near(parse[0].share, 0.7),
		page.url() + ' ' + JSON.stringify(parse));

	// compare: before vs after; parse grows from 30% to 70%: red, and first in the table
	const sel = encodeURIComponent('{service_name="shop"}');
	await page.goto(`${url}/ui/compare?lsel=${sel}&rsel=${sel}&lfrom=${NOW - 3100}&luntil=${NOW - 2300}&rfrom=${NOW - 1300}&runtil=${NOW - 500}`);
	await loaded();
	const d = await page.evaluate(() => window.__kilnFlame.find('parse')[0]);
	check('compare: parse 30% left, 70% right', d && near(d.left, 0.3) && near(d.right, 0.7), JSON.stringify(d));
	const first = await page.$$eval('table.top tbody tr', (r) => r.slice(0, 1).map((x) => [x.cells[0].textContent, x.cells[3].textContent, x.cells[3].querySelector('.worse') !== null]));
	check('compare: parse is the top regression (+133%, marked worse)', first.length && first[0][0] === 'parse' && first[0][1] === '+133.3%' && first[0][2], JSON.stringify(first));
	await page.screenshot({ path: path.join(out, 'compare-1280x800.png') });

	// profiles list: both windows' profiles, and a download of one as folded
	await page.goto(`${url}/ui/profiles?sel=${sel}&${q}`);
	await loaded();
	const n = await page.$$eval('table.profiles tbody tr', (r) => r.length);
	check('profiles: the two ingested profiles are listed', n === 2, String(n));
	const [dl] = await Promise.all([page.waitForEvent('download'), page.click('table.profiles tbody tr:first-child a:text-is("folded")')]);
	const fs = require('fs');
	const file = path.join(out, 'download.folded');
	await dl.saveAs(file);
	const text = fs.readFileSync(file, 'utf8');
	check('profiles: the newest downloads as folded with its stacks', /^main;handle;parse 700000000$/m.test(text), text);
	// the other formats are saved for t9600 to read back with kiln
	const id = await page.$eval('table.profiles tbody tr:first-child input', (c) => c.getAttribute('aria-label').replace('pick profile ', ''));
	for (const [label, ext] of [['pprof', '.pb.gz'], ['speedscope', '.speedscope.json'], ['SVG', '.svg']]) {
		const [d] = await Promise.all([page.waitForEvent('download'), page.click(`table.profiles tbody tr:first-child a:text-is("${label}")`)]);
		await d.saveAs(path.join(out, 'download' + ext));
		check(`profiles: the ${label} download is named kiln-ID${ext}`, d.suggestedFilename() === `kiln-${id}${ext}`, d.suggestedFilename());
	}

	// "Open in speedscope" on the explore page: the shipped speedscope, in a new tab, loads the selection's export
	await page.goto(`${url}/ui/explore?sel=${sel}&${q}`);
	await loaded();
	const links = await page.$$eval('.downloads a', (a) => a.map((x) => x.textContent));
	check('explore: the selection downloads as pprof, folded, speedscope, SVG; and opens in speedscope',
		JSON.stringify(links) === JSON.stringify(['pprof', 'folded', 'speedscope', 'SVG', 'Open in speedscope']), JSON.stringify(links));
	const { ss, title, weights, imported } = await openSpeedscope(page, '.downloads a.open-speedscope');
	check('speedscope opens from /speedscope/ and imports the selection\'s export (200 samples\' worth)',
		new URL(ss.url()).pathname === '/speedscope/' && imported && weights === 200 * 10000000 && title === 'kiln-selection - speedscope',
		`${ss.url()} imported ${imported} ${weights} ${title}`);
	await ss.screenshot({ path: path.join(out, 'speedscope-1280x800.png') });
	await ss.close();

	check('no request left the server', foreign.length === 0, foreign.join(' '));
	check('no console errors', errors.length === 0, errors.join(' | '));
	await browser.close();
	process.exit(failed ? 1 : 0);
})().catch((e) => { console.log('FAIL the browser run: ' + (e.stack || e)); process.exit(1); });
