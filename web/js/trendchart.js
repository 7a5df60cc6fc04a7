// Benchmark trend charts, shared by kiln serve's trend view (pages/trend.js imports this file) and the static
// page of `kiln trend -o page.html` (which inlines it: src/cmd/trend.c takes it from the embedded web files).
// A classic script that defines globalThis.kilnTrend, so that it runs both inline and as a module's import.
// It draws a kiln-trend/1 document (bench/trend.h): one chart per benchmark over commits with the confidence
// band of each run's median, the change points, the alert threshold, links to the commits, filters by branch
// and machine, drag-to-zoom; a click on a change point opens its profile diff. Presentation attributes are
// set here, not in a style sheet, so that both pages draw the same without sharing CSS.
// Never write the closing tag of a script element in this file: the static page inlines it.
'use strict';
(() => {
	const NS = 'http://www.w3.org/2000/svg', W = 900, H = 220, ML = 70, MR = 10, MT = 10, MB = 28;
	const RED = '#d62728', GREEN = '#2ca02c', BLUE = '#3182bd';

	function el(t, a, p) {
		const e = document.createElementNS(NS, t);
		for (const k in a) e.setAttribute(k, a[k]);
		if (p) p.appendChild(e);
		return e;
	}
	function h(t, txt, p, cls) {
		const e = document.createElement(t);
		if (txt !== undefined) e.textContent = txt;
		if (cls) e.className = cls;
		if (p) p.appendChild(e);
		return e;
	}
	function fmt(v, u) {
		if (v === null || !isFinite(v)) return '?';
		if (u === 's') {
			const a = Math.abs(v);
			if (a < 1e-6) return (v * 1e9).toPrecision(4) + ' ns';
			if (a < 1e-3) return (v * 1e6).toPrecision(4) + ' µs';
			if (a < 1) return (v * 1e3).toPrecision(4) + ' ms';
			return v.toPrecision(4) + ' s';
		}
		return v.toPrecision(4) + (u ? ' ' + u : '');
	}
	const pct = (x) => (x > 0 ? '+' : '') + (x * 100).toFixed(1) + '%';

	function mount(root, D, opts = {}) {
		const zoom = {};
		root.textContent = '';
		const summary = h('p', '', root, 'trend-summary');
		const bar = h('div', '', root, 'trend-bar');
		const sel = (label) => { const l = h('label', label + ' ', bar); const s = h('select', undefined, l); l.append(' '); return s; };
		const bs = sel('Branch'), ms = sel('Machine');
		h('small', 'drag on a chart to zoom, double-click to reset; click a change point for its profile diff', bar);
		const charts = h('div', '', root, 'trend-charts');
		const det = h('section', '', root, 'trend-detail');
		det.hidden = true;
		det.style.cssText = 'border-top:2px solid ' + RED + ';margin-top:1em;padding-top:.5em';

		const clink = (c) => {
			const s = c.slice(0, 12), url = opts.commitUrl || D.commit_url;
			if (!url) return h('code', s);
			const a = h('a', s);
			a.href = url.split('{commit}').join(encodeURIComponent(c));
			a.rel = 'noreferrer';
			return a;
		};
		const fill = (s, vals, pick) => {
			for (const v of vals) { const o = h('option', v, s); o.value = v; }
			if (pick && vals.includes(pick)) s.value = pick;
			else if (vals.includes('main')) s.value = 'main';
			else if (vals.includes('master')) s.value = 'master';
		};
		const uniq = (k) => [...new Set(D.series.map((s) => s[k]))].sort();
		fill(bs, uniq('branch'), opts.branch);
		fill(ms, uniq('machine'), opts.machine);
		const m = D.method;
		summary.textContent = D.runs.length + ' runs, ' + D.series.length + ' series; ' + D.regressions + ' regressions, ' +
			D.improvements + ' improvements. Change points: ' + m.name + ' (window ' + m.window + ', alpha ' + m.alpha +
			', threshold ' + (m.threshold * 100) + '%). Band: ' + (m.confidence * 100) + "% confidence interval of each run's median.";

		// The alert threshold of a level: the value a change must pass, in the worse direction.
		const thr = (s, lvl) => lvl * (1 + (s.higher_is_better ? -1 : 1) * m.threshold);

		function chart(s, idx, host) {
			const n = s.run.length, z = zoom[idx] || [0, n - 1], lo = z[0], hi = Math.max(z[1], lo + 1);
			let ymin = Infinity, ymax = -Infinity;
			for (let i = lo; i <= Math.min(hi, n - 1); i++)
				for (const v of [s.centre[i], s.lo[i], s.hi[i]])
					if (v !== null && isFinite(v)) { ymin = Math.min(ymin, v); ymax = Math.max(ymax, v); }
			if (!isFinite(ymin)) { ymin = 0; ymax = 1; }
			const pad = (ymax - ymin) * 0.08 || Math.abs(ymax) * 0.05 || 1;
			ymin -= pad;
			ymax += pad;
			const X = (i) => ML + (i - lo) / (hi - lo) * (W - ML - MR), Y = (v) => MT + (ymax - v) / (ymax - ymin) * (H - MT - MB);
			const svg = el('svg', { width: W, height: H, class: 'trend-chart', 'data-series': idx, style: 'border:1px solid #8884;cursor:crosshair;max-width:100%' }, host);
			const cid = 'kt-clip-' + idx;
			el('rect', { x: ML, y: MT, width: W - ML - MR, height: H - MT - MB, fill: '#fff', opacity: 0.04 }, svg);
			el('rect', { x: ML, y: 0, width: W - ML - MR, height: H }, el('clipPath', { id: cid }, svg));
			const g = el('g', { 'clip-path': 'url(#' + cid + ')' }, svg);
			let up = '', dn = '';
			for (let i = 0; i < n; i++) {
				if (s.lo[i] === null || s.hi[i] === null) continue;
				up += (up ? 'L' : 'M') + X(i) + ',' + Y(s.hi[i]);
				dn = 'L' + X(i) + ',' + Y(s.lo[i]) + dn;
			}
			if (up) el('path', { d: up + dn + 'Z', class: 'band', fill: '#9ecae1', opacity: 0.45 }, g);
			let d = '';
			for (let i = 0; i < n; i++) d += (i ? 'L' : 'M') + X(i) + ',' + Y(s.centre[i]);
			el('path', { d, class: 'line', fill: 'none', stroke: BLUE, 'stroke-width': 1.5 }, g);
			for (let i = lo; i <= Math.min(hi, n - 1); i++) {
				const c = el('circle', { cx: X(i), cy: Y(s.centre[i]), r: 2.2, class: 'pt', fill: BLUE }, g);
				el('title', {}, c).textContent = D.runs[s.run[i]].commit.slice(0, 12) + ' ' + fmt(s.centre[i], s.unit);
			}
			const thrLine = (x1, x2, lvl) => el('line', { x1, x2, y1: Y(lvl), y2: Y(lvl), class: 'thr', stroke: '#ff7f0e', 'stroke-dasharray': '4 3' }, g);
			let prev = 0;
			for (const c of s.changes) {
				thrLine(X(prev), X(c.index), thr(s, c.before));
				prev = c.index;
				const x = X(c.index - 0.5), reg = c.verdict === 'regression';
				el('line', { x1: x, x2: x, y1: MT, y2: H - MB, class: reg ? 'cp-reg' : 'cp-imp', stroke: reg ? RED : GREEN, 'stroke-width': 2 }, g);
				// a band wider than the line to aim at
				const hit = el('rect', { x: x - 6, width: 12, y: MT, height: H - MT - MB, class: 'cp-hit', fill: 'transparent', cursor: 'pointer', 'data-change': c.bad_commit }, g);
				el('title', {}, hit).textContent = c.verdict + ' ' + pct(c.change) + ' at ' + c.bad_commit.slice(0, 12);
				hit.addEventListener('mousedown', (ev) => ev.stopPropagation());
				hit.addEventListener('click', (ev) => { ev.stopPropagation(); detail(s, c); });
			}
			if (s.changes.length) thrLine(X(prev), X(n - 1), thr(s, s.changes[s.changes.length - 1].after));
			else if (n) thrLine(X(0), X(n - 1), thr(s, [...s.centre].sort((a, b) => a - b)[n >> 1]));
			for (let k = 0; k <= 4; k++) {
				const v = ymin + (ymax - ymin) * k / 4;
				el('text', { x: ML - 4, y: Y(v) + 4, 'text-anchor': 'end', class: 'axis', 'font-size': 11, fill: '#888' }, svg).textContent = fmt(v, s.unit);
			}
			for (let k = 0; k <= 5; k++) {
				const i = Math.round(lo + (hi - lo) * k / 5);
				if (i >= n) continue;
				el('text', { x: X(i), y: H - 8, 'text-anchor': k === 5 ? 'end' : k ? 'middle' : 'start', class: 'axis axis-x', 'font-size': 11, fill: '#888' }, svg).textContent = D.runs[s.run[i]].commit.slice(0, 7);
			}
			// Drag to zoom into the runs under the brush; a double click shows them all again.
			let x0 = null;
			const brush = el('rect', { y: MT, height: H - MT - MB, width: 0, fill: '#ccc', opacity: 0.4, class: 'brush' }, svg);
			const at = (px) => lo + (px - ML) / (W - ML - MR) * (hi - lo);
			const px = (e) => (e.clientX - svg.getBoundingClientRect().left) * W / svg.getBoundingClientRect().width;
			svg.addEventListener('mousedown', (e) => { x0 = px(e); e.preventDefault(); });
			svg.addEventListener('mousemove', (e) => {
				if (x0 === null) return;
				const x = px(e);
				brush.setAttribute('x', Math.min(x, x0));
				brush.setAttribute('width', Math.abs(x - x0));
			});
			svg.addEventListener('mouseup', (e) => {
				if (x0 === null) return;
				const a = at(x0), b = at(px(e));
				x0 = null;
				const l = Math.max(0, Math.floor(Math.min(a, b))), r = Math.min(n - 1, Math.ceil(Math.max(a, b)));
				if (r - l >= 2) { zoom[idx] = [l, r]; draw(); } else brush.setAttribute('width', 0);
			});
			svg.addEventListener('dblclick', () => { delete zoom[idx]; draw(); });
		}

		function showDiff(x) {
			if (x.diff_note) h('p', x.diff_note, det, 'muted');
			if (x.functions) {
				const tb = h('table', '', det);
				tb.id = 'functions';
				const hr = h('tr', '', tb);
				for (const t of ['function', 'before %', 'after %', 'change (pp)', 'p (adj.)']) h('th', t, hr);
				for (const f of x.functions) {
					const r = h('tr', '', tb);
					h('td', f.name, r);
					h('td', f.before_pct.toFixed(2), r);
					h('td', f.after_pct.toFixed(2), r);
					h('td', (f.delta_pct > 0 ? '+' : '') + f.delta_pct.toFixed(2) + (f.significant ? ' *' : ''), r);
					h('td', f.p_adjusted.toPrecision(2), r);
				}
			}
			if (x.graphImage) {
				const i = h('img', undefined, det);
				i.alt = 'differential flame graph';
				i.style.maxWidth = '100%';
				i.src = URL.createObjectURL(new Blob([x.graphImage], { type: 'image/svg+xml' }));
			}
			const f = x.graphUrl || x.graph ? h('iframe', '', det) : null;
			if (f) {
				f.title = 'differential flame graph';
				f.style.cssText = 'width:100%;height:520px;border:1px solid #8884';
				f.src = x.graphUrl || URL.createObjectURL(new Blob([x.graph], { type: 'image/svg+xml' }));
			}
			det.dataset.loaded = '1';
		}

		async function detail(s, c) {
			det.hidden = false;
			det.textContent = '';
			det.dataset.loaded = '';
			const t = h('h2', '', det);
			t.append(c.verdict + ' of ' + s.name + ' [' + s.metric + '] ' + pct(c.change) + ' (' + fmt(c.before, s.unit) + ' → ' +
				fmt(c.after, s.unit) + ', p=' + c.p.toPrecision(2) + '): last good ', clink(c.good_commit), ', first bad ', clink(c.bad_commit));
			det.scrollIntoView();
			// The static page carries its diffs; the server's view asks for them (opts.diff) when they are opened.
			if (c.functions || c.graph || c.diff_note || !opts.diff) return showDiff(c);
			const st = h('p', 'Loading the profile diff…', det, 'muted');
			let x;
			try {
				x = await opts.diff(c);
			} catch (e) {
				st.textContent = 'Error: ' + e.message;
				det.dataset.loaded = '1';
				return;
			}
			st.remove();
			showDiff(x);
		}

		function draw() {
			charts.textContent = '';
			D.series.forEach((s, i) => {
				if (s.branch !== bs.value || s.machine !== ms.value) return;
				const t = h('h3', s.name + (s.metric !== 'time' ? ' [' + s.metric + ']' : ''), charts);
				if (s.changes.some((c) => c.verdict === 'regression')) t.style.color = RED;
				chart(s, i, charts);
			});
			if (opts.onFilter) opts.onFilter(bs.value, ms.value);
		}
		bs.addEventListener('change', draw);
		ms.addEventListener('change', draw);
		draw();
		return { draw, zoom, detail };
	}

	globalThis.kilnTrend = { mount, fmt };
})();
