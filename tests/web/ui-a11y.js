// Accessibility of kiln serve's web UI (t9670): node ui-a11y.js URL OUTDIR NOW
// Every page and view, in the light and the dark theme: axe-core's WCAG 2 A/AA rules find no violation (labels
// on inputs, names on controls, text contrast of 4.5:1 or more, ...), and tabbing from the top reaches every
// visible control; the flame graphs' labels, drawn on a canvas where axe cannot see, keep 4.5:1 against the
// colour read back from the canvas under each of them. Prints one "ok NAME" or "FAIL NAME: why" line per check; exits 1 on a failure.
const { open, axe, unreachable } = require('./browser.js');
const path = require('path');

const [url, out, nowArg] = process.argv.slice(2);
const NOW = Number(nowArg);
let failed = 0;
// WCAG 2's contrast ratio of two [r, g, b] colours, written here apart from the UI's own.
const lum = (c) => c.map((v) => v / 255).map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4))
	.reduce((s, v, k) => s + [0.2126, 0.7152, 0.0722][k] * v, 0);
const contrast = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((m, n) => n - m); return (x + 0.05) / (y + 0.05); };
const check = (name, cond, why) => {
	console.log(cond ? `ok ${name}` : `FAIL ${name}: ${why}`);
	if (!cond) failed++;
};

(async () => {
	const { browser, page, foreign, errors } = await open(new URL(url).origin);
	const sel = encodeURIComponent('{service_name="shop"}'), q = `sel=${sel}&from=${NOW - 3600}&until=${NOW}`;
	const pages = [
		['services', '/ui/'],
		['explore', `/ui/explore?${q}&search=pars`],
		['icicle', `/ui/explore?${q}&view=icicle`],
		['focused', `/ui/explore?${q}&view=flame&focus=${encodeURIComponent('main;handle')}`],
		['sandwich', `/ui/explore?${q}&view=sandwich&fn=handle`],
		['analyze', `/ui/explore?${q}&view=analyze`],
		['tags', `/ui/tags?${q}&by=env`],
		['compare', `/ui/compare?lsel=${sel}&rsel=${sel}&lfrom=${NOW - 3100}&luntil=${NOW - 2300}&rfrom=${NOW - 1300}&runtil=${NOW - 500}`],
		['profiles', `/ui/profiles?${q}`],
	];
	for (const theme of ['light', 'dark']) {
		for (const [name, p] of pages) {
			await page.goto(url + p + (p.includes('?') ? '&' : '?') + 'theme=' + theme);
			await page.waitForSelector('main[data-loaded="1"]', { timeout: 15000 });
			const got = await page.evaluate(() => document.documentElement.dataset.theme);
			const v = await axe(page);
			check(`${theme} ${name}: no axe-core violation (WCAG 2 A/AA: labels, names, contrast >= 4.5:1)`, got === theme && v.length === 0,
				`theme ${got}; ` + v.map((x) => `${x.id} (${x.help}): ${x.nodes.join(' | ')}`).join(' || '));
			// the rules that matter here did look at the page's text and its controls
			check(`${theme} ${name}: contrast checked on ${v.checked['color-contrast'] || 0} elements, names on ${(v.checked['button-name'] || 0) + (v.checked['link-name'] || 0)} controls`,
				v.checked['color-contrast'] > 10 && v.checked['link-name'] > 0, JSON.stringify(v.checked));
			// every label of every flame graph on the page: its ink against the canvas pixel at its frame's corner
			const labels = await page.evaluate(() => [window.__kilnFlame, window.__kilnSandwich && window.__kilnSandwich.callers,
				window.__kilnSandwich && window.__kilnSandwich.callees].filter((f) => f && f.g && f.labels && f.canvas.getBoundingClientRect().width > 0).flatMap((f) => {
				const ctx = f.canvas.getContext('2d'), dpr = f.canvas.width / f.canvas.getBoundingClientRect().width;
				// the canvas is transparent where nothing is drawn: a faded frame shows the page's background through it
				const bg = getComputedStyle(document.body).backgroundColor.match(/\d+/g).map(Number);
				return f.labels.map((l) => {
					const d = ctx.getImageData(Math.round((l.x + 1) * dpr), Math.round((l.y + 1) * dpr), 1, 1).data, a = d[3] / 255;
					return { name: f.g.names[f.g.name[l.node]], ink: l.ink, px: [0, 1, 2].map((k) => Math.round(d[k] * a + bg[k] * (1 - a))) };
				});
			}));
			if (labels.length) {
				const hex = (h) => [1, 3, 5].map((k) => parseInt(h.slice(k, k + 2), 16));
				const worst = labels.map((l) => ({ ...l, c: contrast(hex(l.ink), l.px) })).sort((a, b) => a.c - b.c)[0];
				check(`${theme} ${name}: ${labels.length} flame graph labels at 4.5:1 or more (lowest ${worst.c.toFixed(2)})`, worst.c >= 4.5, JSON.stringify(worst));
			}
			if (theme === 'light') {
				const missed = await unreachable(page);
				check(`${name}: every visible control is reached with Tab`, missed.length === 0, missed.join(' | '));
			}
			await page.screenshot({ path: path.join(out, `a11y-${theme}-${name}.png`) });
		}
		// the token form, opened from the keyboard
		await page.goto(url + '/ui/?theme=' + theme);
		await page.waitForSelector('main[data-loaded="1"]');
		await page.focus('#token');
		await page.keyboard.press('Enter');
		const focused = await page.evaluate(() => document.activeElement.name);
		const v = await axe(page);
		check(`${theme} token form: opened with Enter, its input focused, no axe-core violation`, focused === 'token' && v.length === 0,
			`focused ${focused}; ` + v.map((x) => `${x.id}: ${x.nodes.join(' | ')}`).join(' || '));
	}
	check('no request left the server', foreign.length === 0, foreign.join(' '));
	check('no console errors', errors.length === 0, errors.join(' | '));
	await browser.close();
	process.exit(failed ? 1 : 0);
})().catch((e) => { console.log('FAIL the browser run: ' + (e.stack || e)); process.exit(1); });
