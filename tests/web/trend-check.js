// Drives Debian's Chromium over the trend view twice, the static page of `kiln trend -o` (file://) and kiln
// serve's /ui/trend (t5720): node trend-check.js URL OUTDIR TREND_JSON TRUTH_JSON
// TREND_JSON is `kiln trend DIR --format json` of the same history and TRUTH_JSON gen_history.py's truth (the
// injected step's commit and function): every expected number comes from them, none from the page's code.
// Prints one "ok NAME" or "FAIL NAME: why" line per check; exits 1 on a failure.
const { open } = require('./browser.js');
const fs = require('fs');
const path = require('path');

const [url, out, trendFile, truthFile] = process.argv.slice(2);
const T = JSON.parse(fs.readFileSync(trendFile, 'utf8')), truth = JSON.parse(fs.readFileSync(truthFile, 'utf8'));
const step = truth.steps[0];
let failed = 0;
const check = (name, cond, why) => {
	console.log(cond ? `ok ${name}` : `FAIL ${name}: ${why}`);
	if (!cond) failed++;
};
const of = (b, m) => T.series.filter((s) => s.branch === b && s.machine === m);

async function view(label, origin, target, ready, isUi) {
	const { browser, page, foreign, errors } = await open(origin);
	await page.goto(target);
	await page.waitForSelector(ready, { timeout: 30000 });
	const charts = () => page.$$eval('svg.trend-chart', (v) => v.map((s) => ({
		idx: Number(s.dataset.series), pts: s.querySelectorAll('circle.pt').length,
		reg: [...s.querySelectorAll('line.cp-reg')].length, hits: [...s.querySelectorAll('rect.cp-hit')].map((l) => l.dataset.change),
		band: !!s.querySelector('path.band'), thr: s.querySelectorAll('line.thr').length,
		first: s.querySelector('text.axis-x').textContent,
	})));

	// charts drawn: one per series of the default filter (main, the first machine), a point per run
	const want = of('main', 'ci-1');
	let got = await charts();
	check(`${label}: one chart per benchmark of main@ci-1 (${want.length})`, got.length === want.length && want.length > 0,
		`${got.length} charts`);
	check(`${label}: a point per run, the band and the threshold on every chart`,
		got.every((c, i) => c.pts === want[i].run.length && c.band && c.thr >= 1), JSON.stringify(got.map((c) => c.pts)));
	const regs = want.reduce((n, s) => n + s.changes.filter((c) => c.verdict === 'regression').length, 0);
	check(`${label}: the change points drawn as in kiln trend's JSON (${regs} regressions)`,
		got.reduce((n, c) => n + c.reg, 0) === regs, JSON.stringify(got.map((c) => c.reg)));
	const si = want.findIndex((s) => s.name === step.benchmark);
	check(`${label}: the regression of ${step.benchmark} at the injected commit`, si >= 0 && got[si].hits.includes(step.commit),
		JSON.stringify(got[si] && got[si].hits));
	const method = await page.textContent('.trend-summary');
	check(`${label}: the summary names the method and the threshold`, /Mann-Whitney U/.test(method) && /threshold 5%/.test(method), method);

	// zoom: drag over the middle half of the stepped chart, then a double click restores it
	const n = want[si].run.length, sel = `svg.trend-chart[data-series="${got[si].idx}"]`;
	let box = await page.locator(sel).boundingBox();
	const plotX = (f) => box.x + (70 + f * (900 - 80)) * box.width / 900;
	await page.mouse.move(plotX(0.25), box.y + 60);
	await page.mouse.down();
	await page.mouse.move(plotX(0.5), box.y + 60, { steps: 4 });
	await page.mouse.move(plotX(0.75), box.y + 60, { steps: 4 });
	await page.mouse.up();
	got = await charts();
	const z = got[si].pts, lo = Math.floor(0.25 * (n - 1)), hi = Math.ceil(0.75 * (n - 1));
	check(`${label}: drag-to-zoom shows the runs under the brush (${hi - lo + 1} of ${n})`, z === hi - lo + 1, `${z} points`);
	check(`${label}: the zoomed axis starts at the brush's first commit`,
		got[si].first === T.runs[want[si].run[lo]].commit.slice(0, 7), got[si].first);
	box = await page.locator(sel).boundingBox();
	await page.mouse.dblclick(plotX(0.1), box.y + 60);
	got = await charts();
	check(`${label}: a double click shows every run again`, got[si].pts === n, `${got[si].pts} points`);

	// filters: the other branch and machine
	await page.selectOption('.trend-bar select >> nth=0', 'dev');
	await page.selectOption('.trend-bar select >> nth=1', 'ci-2');
	got = await charts();
	const dev = of('dev', 'ci-2');
	check(`${label}: branch dev on ci-2: its ${dev.length} charts of ${dev[0].run.length} runs`,
		got.length === dev.length && got.every((c) => c.pts === dev[0].run.length), JSON.stringify(got.map((c) => c.pts)));
	if (isUi) check(`${label}: the filters are in the URL`, /branch=dev/.test(page.url()) && /machine=ci-2/.test(page.url()), page.url());
	await page.selectOption('.trend-bar select >> nth=0', 'main');
	await page.selectOption('.trend-bar select >> nth=1', 'ci-1');

	// a click on the regression opens its evidence
	await page.click(`rect.cp-hit[data-change="${step.commit}"]`);
	await page.waitForSelector('.trend-detail[data-loaded="1"]', { timeout: 60000 });
	const d = await page.evaluate(() => {
		const det = document.querySelector('.trend-detail'), f = det.querySelector('iframe');
		const row = det.querySelector('#functions tr:nth-child(2)');
		return { head: det.querySelector('h2').textContent, top: row && row.firstChild.textContent, src: f && f.src,
			links: [...det.querySelectorAll('h2 a')].map((a) => a.href) };
	});
	check(`${label}: the regression's diff lists ${step.function} first`, d.top === step.function, JSON.stringify(d));
	const change = want[si].changes.find((c) => c.bad_commit === step.commit);
	check(`${label}: the diff names the last good and first bad commits`, d.head.includes(change.good_commit.slice(0, 12)) &&
		d.head.includes(change.bad_commit.slice(0, 12)), d.head);
	if (!isUi) check(`${label}: commits link through --commit-url`, d.links.length === 2 &&
		d.links[1] === 'https://example.org/r/commit/' + step.commit, JSON.stringify(d.links));
	let svg = '';
	for (let i = 0; i < 100 && !svg.includes(step.function); i++) {
		const fr = page.frames().find((f) => f !== page.mainFrame());
		svg = fr ? await fr.content().catch(() => '') : '';
		if (!svg.includes(step.function)) await page.waitForTimeout(100);
	}
	check(`${label}: the differential flame graph opens (${isUi ? 'the server\'s SVG' : 'embedded'})`,
		svg.includes('<svg') && svg.includes(step.function) && (isUi ? d.src.startsWith(origin + '/api/v1/bench/diff?') : d.src.startsWith('blob:')),
		`${d.src} ${svg.slice(0, 80)}`);
	await page.screenshot({ path: path.join(out, `trend-${label}.png`), fullPage: false });

	// file:// pages make blob:null URLs: still this page's own bytes
	const other = foreign.filter((u) => !(origin === 'file://' && (u.startsWith('blob:null/') || u.startsWith('file://'))));
	check(`${label}: no request to any other host`, other.length === 0, other.slice(0, 3).join(' '));
	check(`${label}: no console errors`, errors.length === 0, errors.slice(0, 3).join(' | '));
	await browser.close();
}

(async () => {
	try {
		await view('static', 'file://', 'file://' + path.resolve(out, 'trend.html'), 'svg.trend-chart', false);
		await view('ui', new URL(url).origin, url + '/ui/trend', 'main[data-loaded="1"]', true);
	} catch (e) {
		console.log('FAIL the browser run: ' + e.message.split('\n')[0]);
		failed++;
	}
	process.exit(failed ? 1 : 0);
})();
