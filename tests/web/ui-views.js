// Drives Debian's Chromium over kiln serve's sandwich view, tag explorer, analyze panel and token setting
// (t9650): node ui-views.js URL OUTDIR FIXTURES_DIR SECTION...
// FIXTURES_DIR holds the folded stacks t9650 ingested (NAME.folded, service NAME, one profile each, values
// in samples at 100 Hz); every expected number is computed here from those files, by a per-stack reading
// that shares no code with the UI's tree walks.
// Prints one "ok NAME" or "FAIL NAME: why" line per check; exits 1 on a failure.
const { open, openSpeedscope } = require('./browser.js');
const fs = require('fs');
const path = require('path');

const [url, out, fixtures, ...sections] = process.argv.slice(2);
const origin = new URL(url).origin;
let failed = 0;
const check = (name, cond, why) => {
	console.log(cond ? `ok ${name}` : `FAIL ${name}: ${why}`);
	if (!cond) failed++;
};
const near = (a, b) => Math.abs(a - b) < 1e-9 * Math.max(1, Math.abs(b));
const folded = (name) => fs.readFileSync(path.join(fixtures, name + '.folded'), 'utf8').trim().split('\n').map((l) => {
	const i = l.lastIndexOf(' ');
	return { stack: l.slice(0, i).split(';'), v: Number(l.slice(i + 1)) };
});

// The sandwich of `fn` read stack by stack: the callers path (fn first, then its callers outwards) and the
// callees path (fn, then what it calls) of the outermost fn on each stack, as "a;b" -> summed value.
function sandwichRef(rows, fn) {
	const callers = new Map(), callees = new Map();
	let total = 0, self = 0;
	for (const { stack, v } of rows) {
		const k = stack.indexOf(fn);
		if (k < 0) continue;
		total += v;
		if (stack.lastIndexOf(fn) === stack.length - 1) self += v;
		for (const [m, parts] of [[callers, stack.slice(0, k + 1).reverse()], [callees, stack.slice(k)]])
			for (let j = 1; j <= parts.length; j++) { const key = parts.slice(0, j).join(';'); m.set(key, (m.get(key) || 0) + v); }
	}
	return { callers, callees, total, self };
}

(async () => {
	const { browser, page, foreign, errors } = await open(origin);
	const loaded = () => page.waitForSelector('main[data-loaded="1"]', { timeout: 20000 });
	const range = 'from=now-2h&until=now';

	if (sections.includes('sandwich')) {
		const rows = folded('lib'), all = rows.reduce((s, r) => s + r.v, 0), ref = sandwichRef(rows, 'util');
		await page.goto(`${url}/ui/explore?sel=${encodeURIComponent('{service_name="lib"}')}&${range}`);
		await loaded();
		// the top table: a function's total counts each stack once (util recurses), its self the stacks it ends
		const want = {};
		for (const { stack, v } of rows) {
			for (const fn of new Set(stack)) (want[fn] = want[fn] || { self: 0, total: 0 }).total += v * 1e7;
			want[stack[stack.length - 1]].self += v * 1e7;
		}
		const table = Object.fromEntries(await page.evaluate(() => window.__kilnPage.table.rows.map((r) => [r.name, { self: r.self, total: r.total }])));
		check('the top table\'s self and total per function, recursion counted once (util ' + (table.util && table.util.total / 1e7) + ')',
			JSON.stringify(Object.keys(table).sort().map((k) => [k, table[k]])) === JSON.stringify(Object.keys(want).sort().map((k) => [k, want[k]])),
			JSON.stringify([table, want]));
		// from the table's button
		await page.click('.sw-btn[data-fn="util"]');
		await page.waitForURL(/view=sandwich/);
		await loaded();
		const u = new URL(page.url()).searchParams;
		check('the table\'s ⇅ opens the sandwich of util (view and fn in the URL)', u.get('view') === 'sandwich' && u.get('fn') === 'util', page.url());
		const got = await page.evaluate(() => {
			const dump = (f) => { const g = f.g, o = {}; for (let i = 0; i < g.n; i++) o[[g.names[g.name[0]], f.pathOf(i)].filter(Boolean).join(';')] = g.total[i]; return o; };
			const s = window.__kilnSandwich;
			return { callers: dump(s.callers), callees: dump(s.callees), whole: s.callers.base(), self: s.callees.g.self[0],
				visible: s.callers.canvas.getBoundingClientRect().width > 0 && s.callees.canvas.getBoundingClientRect().height > 0 };
		});
		const scale = got.whole / all, same = (m, o) => m.size === Object.keys(o).length && [...m].every(([k, v]) => near(o[k], v * scale));
		check('sandwich: the callers tree of util matches the stacks (each sample once, at its outermost util)', same(ref.callers, got.callers),
			JSON.stringify([...ref.callers]) + ' vs ' + JSON.stringify(got.callers));
		check('sandwich: the callees tree of util matches the stacks', same(ref.callees, got.callees),
			JSON.stringify([...ref.callees]) + ' vs ' + JSON.stringify(got.callees));
		check('sandwich: util\'s width is its total share, self its self share', near(got.callers.util / got.whole, ref.total / all) && near(got.self / got.whole, ref.self / all),
			JSON.stringify(got));
		check('sandwich: both graphs are drawn', got.visible, JSON.stringify(got));
		const sum = await page.$eval('.sw-sum', (e) => e.textContent);
		check('sandwich: the summary says util\'s share of the selection', sum.includes((100 * ref.total / all).toFixed(1) + '%'), sum);
		await page.screenshot({ path: path.join(out, 'sandwich-1280x800.png') });

		// from a frame's context action (right-click on the flame graph)
		await page.goto(`${url}/ui/explore?sel=${encodeURIComponent('{service_name="lib"}')}&${range}`);
		await loaded();
		const fr = await page.evaluate(() => window.__kilnFlame.find('b')[0]);
		const cv = await page.$eval('.flame-canvas', (c) => { const r = c.getBoundingClientRect(); return { x: r.left, y: r.top }; });
		await page.mouse.click(cv.x + fr.px.x + fr.px.w / 2, cv.y + fr.px.y, { button: 'right' });
		await page.waitForURL(/view=sandwich/, { timeout: 5000 }).catch(() => {});
		await loaded();
		const rb = sandwichRef(rows, 'b');
		const b = await page.evaluate(() => ({ fn: new URL(location.href).searchParams.get('fn'), t: window.__kilnSandwich.callees.g.total[0] / window.__kilnSandwich.callees.base() }));
		check('right-click on frame b opens its sandwich', b.fn === 'b' && near(b.t, rb.total / all), JSON.stringify(b));
		await page.click('button[data-view="both"]');
		await loaded();
		check('the view buttons leave the sandwich', new URL(page.url()).searchParams.get('view') === 'both', page.url());
	}

	if (sections.includes('tags')) {
		// fixtures/tags/VALUE/N.folded: profile N of service "web" with region=VALUE, each in its own minute
		const dir = path.join(fixtures, 'tags'), want = {};
		for (const v of fs.readdirSync(dir)) {
			const files = fs.readdirSync(path.join(dir, v));
			const rows = files.flatMap((f) => folded(path.join('tags', v, f.replace(/\.folded$/, ''))));
			want[v] = { total: rows.reduce((s, r) => s + r.v, 0), profiles: files.length, rows };
		}
		const sum = Object.values(want).reduce((s, w) => s + w.total, 0);
		await page.goto(`${url}/ui/explore?sel=${encodeURIComponent('{service_name="web"}')}&${range}`);
		await loaded();
		await page.click('a:text-is("Group by a label")');
		await page.waitForURL(/\/ui\/tags\?/);
		await loaded();
		const by = await page.$eval('select.by', (s) => [s.value, [...s.options].map((o) => o.value)]);
		check('tag explorer: opened from Explore with the selection, grouped by region', by[0] === 'region' && by[1].includes('service_name'), JSON.stringify(by));
		const got = await page.$$eval('table.tags tbody tr', (tr) => tr.map((r) => ({ v: r.dataset.value, total: Number(r.dataset.total),
			mean: Number(r.dataset.mean), share: Number(r.dataset.share), text: r.cells[3].textContent })));
		const ns = 1e9 / 100; // folded samples at 100 Hz, stored as CPU nanoseconds
		check('tag explorer: one row per region, heaviest first', JSON.stringify(got.map((r) => r.v)) ===
			JSON.stringify(Object.keys(want).sort((a, b) => want[b].total - want[a].total)), JSON.stringify(got));
		check('tag explorer: totals, means per step (one profile a step) and shares match the stacks', got.every((r) => want[r.v] &&
			near(r.total, want[r.v].total * ns) && near(r.mean, want[r.v].total * ns / want[r.v].profiles) && near(r.share, want[r.v].total / sum) &&
			r.text === (100 * want[r.v].total / sum).toFixed(1) + '%'), JSON.stringify([got, want]));
		const lines = await page.evaluate(() => window.__kilnPage.timeline.series.map((s) => [s.name, s.line, s.samples.reduce((a, b) => a + b, 0), s.samples.filter((x) => x).length]));
		check('tag explorer: one timeline line per value, summing to its total', lines.length === Object.keys(want).length &&
			lines.every(([v, line, t, n]) => line && near(t, want[v].total * ns) && n === want[v].profiles), JSON.stringify(lines));
		await page.screenshot({ path: path.join(out, 'tags-1280x800.png') });

		// compare the heaviest value with the rest: shares of every function on each side, from the stacks
		const top = got[0].v;
		await page.click(`tr[data-value="${top}"] a.tag-compare`);
		await page.waitForURL(/\/ui\/compare\?/);
		await loaded();
		const cu = new URL(page.url()).searchParams;
		check('compare this value with the rest: {region="v"} on the left, {region!="v"} on the right',
			cu.get('lsel') === `{service_name="web",region="${top}"}` && cu.get('rsel') === `{service_name="web",region!="${top}"}`, page.url());
		const share = (rows, fn) => rows.filter((r) => r.stack.includes(fn)).reduce((s, r) => s + r.v, 0) / rows.reduce((s, r) => s + r.v, 0);
		const restRows = Object.keys(want).filter((v) => v !== top).flatMap((v) => want[v].rows);
		const d = await page.evaluate(() => window.__kilnFlame.find('work')[0]);
		check('compare: work\'s share on each side matches the stacks', d && near(d.left, share(want[top].rows, 'work')) && near(d.right, share(restRows, 'work')),
			JSON.stringify(d));
		// click a value to filter: Explore of that value only
		await page.goBack();
		await loaded();
		await page.click(`tr[data-value="${top}"] a.tag-filter`);
		await page.waitForURL(/\/ui\/explore\?/);
		await loaded();
		const tot = await page.evaluate(() => window.__kilnFlame.g.total[0]);
		check('a value\'s link opens Explore filtered to it', new URL(page.url()).searchParams.get('sel') === `{service_name="web",region="${top}"}` &&
			near(tot, want[top].total * ns), page.url() + ' ' + tot);
	}

	if (sections.includes('analyze')) {
		// ANALYZE_JSON: the endpoint's document, which t9650 checked against kiln analyze of the exported selection
		const want = JSON.parse(fs.readFileSync(process.env.ANALYZE_JSON, 'utf8'));
		await page.goto(`${url}/ui/explore?sel=${encodeURIComponent('{service_name="alloc"}')}&${range}`);
		await loaded();
		await page.click('button[data-view="analyze"]');
		await page.waitForURL(/view=analyze/);
		await loaded();
		const hot = await page.$$eval('table.hotspots tbody tr', (tr) => tr.map((r) => [r.dataset.fn, r.cells[1].textContent, r.cells[2].textContent, r.cells[4].textContent]));
		const wantHot = want.hotspots.map((h) => [h.function, h.self_pct.toFixed(1) + '%', h.total_pct.toFixed(1) + '%', h.severity]);
		check('analyze panel: the hotspots are the document\'s, in its order, with self %, total % and severity',
			hot.length > 0 && JSON.stringify(hot) === JSON.stringify(wantHot), JSON.stringify(hot) + ' vs ' + JSON.stringify(wantHot));
		const recs = await page.$$eval('li.rec', (li) => li.map((r) => [r.dataset.rule, r.querySelector('p').textContent]));
		check('analyze panel: the recommendations are the document\'s rules with their messages', recs.length > 0 &&
			JSON.stringify(recs) === JSON.stringify(want.recommendations.map((r) => [r.rule, r.message])), JSON.stringify(recs));
		await page.screenshot({ path: path.join(out, 'analyze-1280x800.png') });
	}

	if (sections.includes('auth')) {
		// a server with --auth-file; KILN_TOKEN reads tenant acme, which holds service "sec" (fixtures/sec.folded)
		const rows = folded('sec'), all = rows.reduce((s, r) => s + r.v, 0);
		const want = rows.filter((r) => r.stack.includes('secret_fn')).reduce((s, r) => s + r.v, 0) / all;
		const auth = [];
		page.on('request', (r) => { if (r.url().includes('/render?')) auth.push(r.headers().authorization || ''); });
		const explore = `${url}/ui/explore?sel=${encodeURIComponent('{service_name="sec"}')}&${range}`;
		await page.goto(explore);
		await page.waitForSelector('.status.error', { timeout: 20000 });
		const st = await page.$eval('.status', (s) => s.textContent);
		check('auth: without a token the page says so and points to the token setting', /401|token/.test(st) && st.includes('set an API token'), st);
		await page.click('#token');
		await page.fill('#token-form input[name="token"]', process.env.KILN_TOKEN);
		await Promise.all([page.waitForNavigation(), page.click('#token-form button[type="submit"]')]);
		await loaded();
		const f = await page.evaluate(() => window.__kilnFlame.find('secret_fn'));
		check('auth: with the pasted token the flame graph loads (secret_fn\'s share from the stacks)', f.length === 1 && near(f[0].share, want), JSON.stringify(f));
		check('auth: the token is sent as Bearer and kept in localStorage', auth.length > 0 && auth[auth.length - 1] === 'Bearer ' + process.env.KILN_TOKEN &&
			await page.evaluate(() => localStorage.getItem('kiln.token')) === process.env.KILN_TOKEN, JSON.stringify(auth));
		await page.goto(`${url}/ui/profiles?sel=${encodeURIComponent('{service_name="sec"}')}&${range}`);
		await loaded();
		const [dl] = await Promise.all([page.waitForEvent('download'), page.click('table.profiles tbody tr:first-child a:text-is("pprof")')]);
		await dl.saveAs(path.join(out, 'auth-download.pb.gz'));
		check('auth: a download carries the token (saved as ' + dl.suggestedFilename() + ')', fs.statSync(path.join(out, 'auth-download.pb.gz')).size > 0, '');
		// speedscope's own fetch cannot send the token: the page hands it the export as a blob: URL of this origin
		const { ss, weights, imported } = await openSpeedscope(page, 'table.profiles tbody tr:first-child a.open-speedscope');
		const wantW = folded('sec').reduce((a, r) => a + r.v, 0) * 1e7;
		check('auth: "Open in speedscope" with a token loads the profile through a blob: URL (its weights sum to the stacks\' total)',
			new URL(ss.url()).pathname === '/speedscope/' && ss.url().includes('profileURL=blob') && imported && weights === wantW,
			`${ss.url().slice(0, 120)} imported ${imported} ${weights} vs ${wantW}`);
		await ss.close();
		await page.click('#token');
		await Promise.all([page.waitForNavigation(), page.click('#token-form button.clear')]);
		await page.waitForFunction(() => /^Error: .*401|token/.test(document.querySelector('.status').textContent), null, { timeout: 20000 });
		check('auth: Clear forgets the token', await page.evaluate(() => localStorage.getItem('kiln.token')) === null, '');
		await page.screenshot({ path: path.join(out, 'token-1280x800.png') });
		// the 401s above are the point of this section, not errors of the page
		for (let i = errors.length - 1; i >= 0; i--) if (/status of 401/.test(errors[i])) errors.splice(i, 1);
	}

	check('no request left the server', foreign.length === 0, foreign.join(' '));
	check('no console errors', errors.length === 0, errors.join(' | '));
	await browser.close();
	process.exit(failed ? 1 : 0);
})().catch((e) => { console.log('FAIL the browser run: ' + (e.stack || e)); process.exit(1); });
