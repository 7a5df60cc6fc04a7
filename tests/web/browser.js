// What the web UI tests share: Debian's Chromium (KILN_CHROMIUM overrides the path) at 1280x800, with the
// requests to any host but `origin` and the console errors of every page the run opens (a new tab included)
// collected for the final checks.
const { chromium } = require('playwright-core');

exports.open = async (origin) => {
	const browser = await chromium.launch({
		executablePath: process.env.KILN_CHROMIUM || '/usr/bin/chromium',
		args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
			'--disable-component-update', '--no-first-run'],
	});
	const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
	const foreign = [], errors = [];
	const own = (u) => u.startsWith(origin + '/') || u.startsWith('data:') || u.startsWith('blob:' + origin + '/');
	context.on('request', (r) => { if (!own(r.url())) foreign.push(r.url()); });
	context.on('page', (p) => {
		p.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
		p.on('pageerror', (e) => errors.push(String(e)));
	});
	const page = await context.newPage();
	return { browser, context, page, foreign, errors };
};

// axe-core (npm, beside playwright-core) run in `page` over WCAG 2 A and AA rules (labels, names, contrast of
// 4.5:1, ...): its script is evaluated from the local file, so nothing is fetched and the page's CSP, which
// allows no inline script, does not apply. Returns axe's violations, and in `checked` how many elements each
// rule passed (a rule that checked nothing proves nothing).
exports.axe = async (page) => {
	const src = require('fs').readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
	if (!(await page.evaluate(() => !!window.axe))) await page.evaluate(src);
	const r = await page.evaluate(() => window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
		.then((res) => ({ violations: res.violations.map((v) => ({ id: v.id, help: v.help,
			nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ') + ': ' + n.failureSummary.split('\n').slice(1, 2).join(' ')) })),
		checked: Object.fromEntries(res.passes.map((p) => [p.id, p.nodes.length])) })));
	return Object.assign(r.violations, { checked: r.checked });
};

// Tabs through `page` from the top and returns the interactive elements that are visible but never took the
// focus (links, buttons, inputs, selects, focusable widgets), each as a short description.
exports.unreachable = async (page, maxTabs = 400) => {
	await page.evaluate(() => {
		document.activeElement && document.activeElement.blur();
		window.__kilnFocused = new Set();
		document.addEventListener('focusin', (e) => window.__kilnFocused.add(e.target), true);
	});
	for (let i = 0; i < maxTabs; i++) await page.keyboard.press('Tab');
	return page.evaluate(() => [...document.querySelectorAll('a[href], button, input, select, textarea, [tabindex]')]
		.filter((el) => !el.disabled && el.getAttribute('tabindex') !== '-1' && el.getClientRects().length && getComputedStyle(el).visibility !== 'hidden')
		.filter((el) => !window.__kilnFocused.has(el))
		.map((el) => el.outerHTML.slice(0, 120)));
};

// Clicks `selector` (an "Open in speedscope" link) in `page` and waits until the speedscope tab it opens has
// imported its profile (speedscope logs it). Returns the tab, its title and the sum of the weights of the
// profile it was given, fetched again from its #profileURL= (an export URL, or the opener's blob: URL).
exports.openSpeedscope = async (page, selector) => {
	const logs = [];
	page.context().once('page', (p) => p.on('console', (m) => logs.push(m.text())));
	const [ss] = await Promise.all([page.context().waitForEvent('page'), page.click(selector)]);
	for (let i = 0; i < 150 && !logs.some((l) => /^Importing as speedscope/.test(l)); i++) await ss.waitForTimeout(100);
	const weights = await ss.evaluate(async () => {
		const u = new URLSearchParams(location.hash.slice(1)).get('profileURL');
		const d = await (await fetch(u)).json();
		return d.profiles[0].weights.reduce((a, b) => a + b, 0);
	}).catch(() => -1);
	return { ss, title: await ss.title(), weights, imported: logs.some((l) => /^Importing as speedscope/.test(l)) };
};
