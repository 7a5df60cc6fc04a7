// What the web UI tests share: Debian's Chromium (KILN_CHROMIUM overrides the path) at 1280x800, with the
// requests to any host but `origin` and the page's console errors collected for the final checks.
const { chromium } = require('playwright-core');

exports.open = async (origin) => {
	const browser = await chromium.launch({
		executablePath: process.env.KILN_CHROMIUM || '/usr/bin/chromium',
		args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
			'--disable-component-update', '--no-first-run'],
	});
	const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
	const foreign = [], errors = [];
	const own = (u) => u.startsWith(origin + '/') || u.startsWith('data:') || u.startsWith('blob:' + origin + '/');
	page.on('request', (r) => { if (!own(r.url())) foreign.push(r.url()); });
	page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
	page.on('pageerror', (e) => errors.push(String(e)));
	return { browser, page, foreign, errors };
};
