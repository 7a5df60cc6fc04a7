// A canvas flame graph for Pyroscope's flamebearer documents ("single": 4-tuples, "double": 7-tuples of a diff).
// One canvas, not a DOM node per frame, so that 100,000-node graphs draw and zoom in a few milliseconds: each
// frame draws only the nodes inside the view, found by binary search per level. Frames narrower than MIN_PX
// are merged, per level, into grey runs that stay visible and say in their tooltip how many frames they hold.
import { fmtValue, fmtPct } from './format.js';

const ROW = 18;
const MIN_PX = 1.5;

export function parseFlamebearer(doc) {
	const fb = doc.flamebearer, diff = doc.metadata && doc.metadata.format === 'double';
	const step = diff ? 7 : 4;
	let n = 0;
	for (const lv of fb.levels) n += lv.length / step;
	const g = {
		names: fb.names, diff, n, nLevels: fb.levels.length,
		levelStart: new Int32Array(fb.levels.length + 1),
		start: new Float64Array(n), total: new Float64Array(n), self: new Float64Array(n),
		name: new Int32Array(n), parent: new Int32Array(n), level: new Int32Array(n),
		lt: diff ? new Float64Array(n) : null, rt: diff ? new Float64Array(n) : null,
		ls: diff ? new Float64Array(n) : null, rs: diff ? new Float64Array(n) : null,
		leftTicks: doc.leftTicks || 0, rightTicks: doc.rightTicks || 0,
		meta: doc.metadata || {},
	};
	let k = 0;
	fb.levels.forEach((lv, L) => {
		g.levelStart[L] = k;
		let x = 0, rx = 0;
		for (let j = 0; j < lv.length; j += step, k++) {
			g.level[k] = L;
			if (!diff) {
				x += lv[j];
				g.start[k] = x; g.total[k] = lv[j + 1]; g.self[k] = lv[j + 2]; g.name[k] = lv[j + 3];
				x += lv[j + 1];
			} else {
				x += lv[j]; rx += lv[j + 3];
				g.start[k] = x + rx;
				g.lt[k] = lv[j + 1]; g.ls[k] = lv[j + 2]; g.rt[k] = lv[j + 4]; g.rs[k] = lv[j + 5];
				g.total[k] = lv[j + 1] + lv[j + 4]; g.self[k] = lv[j + 2] + lv[j + 5]; g.name[k] = lv[j + 6];
				x += lv[j + 1]; rx += lv[j + 4];
			}
		}
	});
	g.levelStart[fb.levels.length] = k;
	// parents: both levels are sorted by start, so one merge pass per level pair
	g.parent.fill(-1);
	for (let L = 1; L < g.nLevels; L++) {
		let p = g.levelStart[L - 1];
		const pe = g.levelStart[L];
		for (let c = g.levelStart[L]; c < g.levelStart[L + 1]; c++) {
			while (p < pe - 1 && g.start[p] + g.total[p] <= g.start[c]) p++;
			g.parent[c] = p;
		}
	}
	return g;
}

// The index of the node of level L whose range holds tick t, or -1.
function nodeAt(g, L, t) {
	let lo = g.levelStart[L], hi = g.levelStart[L + 1] - 1;
	while (lo <= hi) {
		const m = (lo + hi) >> 1;
		if (g.start[m] > t) hi = m - 1;
		else if (g.start[m] + g.total[m] <= t) lo = m + 1;
		else return m;
	}
	return -1;
}

// The first node of level L that ends after tick t.
function firstAfter(g, L, t) {
	let lo = g.levelStart[L], hi = g.levelStart[L + 1];
	while (lo < hi) {
		const m = (lo + hi) >> 1;
		if (g.start[m] + g.total[m] <= t) lo = m + 1;
		else hi = m;
	}
	return lo;
}

// WCAG 2's relative luminance of [r, g, b] (0-255).
export function luminance(c) {
	const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
	return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
}

// Black or white text, whichever contrasts more with `c`: the two contrasts are equal at luminance 0.1791
// ((L + 0.05) / 0.05 = 1.05 / (L + 0.05)), where both are 4.58:1, so a label never falls under 4.5:1.
export function inkOn(c) { return luminance(c) > 0.1791 ? '#000' : '#fff'; }

function hslToRgb(h, s, l) {
	s /= 100; l /= 100;
	const a = s * Math.min(l, 1 - l), f = (n) => { const k = (n + h / 30) % 12; return Math.round(255 * (l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1)))); };
	return [f(0), f(8), f(4)];
}

// "#rgb", "#rrggbb" or "rgb(r, g, b)" as [r, g, b].
export function parseRgb(s) {
	if (s[0] === '#') {
		const h = s.length === 4 ? [...s.slice(1)].map((x) => x + x).join('') : s.slice(1, 7);
		return [0, 2, 4].map((k) => parseInt(h.slice(k, k + 2), 16));
	}
	return (s.match(/\d+/g) || [0, 0, 0]).slice(0, 3).map(Number);
}

function nameHue(s) {
	let h = 0;
	for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0;
	return h >>> 0;
}

export class FlameGraph {
	constructor(container, opts = {}) {
		this.el = container;
		this.opts = opts;
		this.canvas = document.createElement('canvas');
		this.canvas.className = 'flame-canvas';
		this.canvas.tabIndex = 0;
		this.canvas.setAttribute('role', 'img');
		this.canvas.setAttribute('aria-label', (opts.label || 'flame graph') + '; click a frame to focus it, Escape resets' +
			(opts.onContext ? ', right-click for its sandwich view' : ''));
		container.appendChild(this.canvas);
		this.tip = document.getElementById('tooltip');
		this.mode = 'flame';
		this.g = null;
		this.runs = [];
		this.matchName = null;
		this.canvas.addEventListener('mousemove', (e) => this.hover(e));
		this.canvas.addEventListener('mouseleave', () => this.hideTip());
		this.canvas.addEventListener('click', (e) => this.click(e));
		this.canvas.addEventListener('contextmenu', (e) => {
			const p = this.opts.onContext && this.pick(e);
			if (p && p.node > 0) { e.preventDefault(); this.hideTip(); this.opts.onContext(this.g.names[this.g.name[p.node]]); }
		});
		this.ro = new ResizeObserver(() => this.draw());
		this.ro.observe(container);
	}

	// Timed as user-timing measures (kiln:parse, kiln:colors, kiln:draw) for scripts/check-web-long.sh.
	setData(doc) {
		let t = performance.now();
		const lap = (name) => { const now = performance.now(); performance.measure(name, { start: t, end: now }); t = now; };
		this.g = parseFlamebearer(doc);
		lap('kiln:parse');
		this.view = { focus: 0, x0: 0, x1: this.g.total[0] || 1 };
		this.computeColors();
		lap('kiln:colors');
		this.match(this.search);
		this.draw();
		lap('kiln:draw');
	}

	setMode(mode) { if (mode === this.mode) return; this.mode = mode; this.draw(); }

	// Drops the graph (a sandwich of a function the selection lacks).
	clear() {
		this.g = null;
		this.canvas.width = this.canvas.height = 0;
		this.canvas.style.height = '0';
	}

	// What shares in tooltips are of: the graph's root, or `shareBase` (a sandwich: the whole selection).
	base() { return this.shareBase || (this.g && this.g.total[0]) || 1; }

	// Focuses node i (its range fills the width; its ancestors stay on as context).
	focus(i, notify = true) {
		const g = this.g;
		if (!g || i < 0 || i >= g.n || !g.total[i]) i = 0;
		const v = this.view;
		// a page update re-applies the URL's focus: the view it already shows is not drawn again
		if (v && v.focus === i && v.x0 === g.start[i] && v.x1 === g.start[i] + g.total[i] && !notify) return;
		this.view = { focus: i, x0: g.start[i], x1: g.start[i] + g.total[i] };
		this.draw();
		if (notify && this.opts.onFocus) this.opts.onFocus(i ? this.pathOf(i) : '');
	}

	reset() { this.focus(0); }

	pathOf(i) {
		const parts = [];
		for (; i > 0; i = this.g.parent[i]) parts.push(this.g.names[this.g.name[i]]);
		return parts.reverse().join(';');
	}

	// The node of a "a;b;c" path (the widest one when names repeat), or 0.
	nodeOfPath(path) {
		const g = this.g;
		if (!g || !path) return 0;
		let cur = 0;
		for (const part of path.split(';')) {
			const L = g.level[cur] + 1;
			if (L >= g.nLevels) return 0;
			let best = -1;
			for (let c = g.levelStart[L]; c < g.levelStart[L + 1]; c++)
				if (g.parent[c] === cur && g.names[g.name[c]] === part && (best < 0 || g.total[c] > g.total[best])) best = c;
			if (best < 0) return 0;
			cur = best;
		}
		return cur;
	}

	// Highlights the frames whose name holds `q` (case-insensitive); returns the matched share of the total,
	// counting a matched frame's matched descendants once. The same search on the same graph is not redrawn.
	setSearch(q) {
		if (!this.g) { this.search = q || ''; return 0; }
		if ((q || '') === this.search && this.matchedG === this.g) return this.matched;
		this.match(q);
		this.draw();
		return this.matched;
	}

	match(q) {
		const g = this.g;
		this.search = q || '';
		this.matchedG = g;
		this.matched = 0;
		this.matchName = null;
		if (!this.search) return;
		const ql = this.search.toLowerCase();
		this.matchName = new Uint8Array(g.names.length);
		g.names.forEach((s, i) => { this.matchName[i] = s.toLowerCase().includes(ql) ? 1 : 0; });
		const covered = new Uint8Array(g.n);
		let sum = 0;
		for (let i = 1; i < g.n; i++) {
			const m = this.matchName[g.name[i]];
			const pc = g.parent[i] >= 0 ? covered[g.parent[i]] : 0;
			if (m && !pc) sum += g.total[i];
			covered[i] = m || pc;
		}
		this.matched = g.total[0] ? sum / g.total[0] : 0;
	}

	// A colour per node as rgb (the fill) and the text colour drawn on it (inkOn: black or white, whichever
	// contrasts more, so every label keeps 4.5:1 on any hue in either theme). Worked out the first time a node
	// is drawn wide enough to be seen: most of a 100,000-node graph never is.
	computeColors() {
		const g = this.g;
		this.dark = document.documentElement.dataset.theme === 'dark';
		this.colors = new Array(g.n);
		this.ink = new Array(g.n);
		this.rgb = new Uint8Array(3 * g.n);
	}

	colorOf(i) {
		if (this.colors[i]) return this.colors[i];
		const g = this.g, dark = this.dark;
		let c;
		if (g.diff) {
			const l = g.leftTicks ? g.lt[i] / g.leftTicks : 0, r = g.rightTicks ? g.rt[i] / g.rightTicks : 0;
			const d = l ? (r - l) / l : (r ? 1 : 0);
			const a = Math.min(1, Math.abs(d));
			const light = dark ? 30 + 25 * (1 - a) : 90 - 35 * a;
			c = Math.abs(d) < 0.01 ? hslToRgb(0, 0, dark ? 40 : 82) : hslToRgb(d > 0 ? 0 : 120, Math.round(40 + 45 * a), Math.round(light));
		} else {
			const h = nameHue(g.names[g.name[i]]);
			c = hslToRgb(10 + (h % 45), 70 + (h >> 8) % 25, dark ? 38 + (h >> 16) % 12 : 58 + (h >> 16) % 14);
		}
		this.rgb.set(c, 3 * i);
		this.ink[i] = inkOn(c);
		return (this.colors[i] = `rgb(${c[0]},${c[1]},${c[2]})`);
	}

	rowY(L, h) { return this.mode === 'icicle' ? L * ROW : h - (L + 1) * ROW; }

	draw() {
		const g = this.g;
		if (!g) return;
		const t0 = performance.now();
		const w = Math.max(100, this.el.clientWidth), h = g.nLevels * ROW, dpr = window.devicePixelRatio || 1;
		const c = this.canvas;
		if (c.width !== Math.round(w * dpr) || c.height !== Math.round(h * dpr)) {
			c.width = Math.round(w * dpr); c.height = Math.round(h * dpr);
			c.style.width = w + 'px'; c.style.height = h + 'px';
		}
		const ctx = c.getContext('2d');
		ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
		ctx.clearRect(0, 0, w, h);
		const cs = getComputedStyle(document.documentElement);
		const css = (v, d) => cs.getPropertyValue(v).trim() || d;
		const narrow = css('--narrow', '#999'), dim = css('--dim', '#ddd'), hit = css('--match', '#c0f');
		const rgbDim = parseRgb(dim), rgbHit = parseRgb(hit), rgbBg = parseRgb(css('--bg', '#fff'));
		// a label's text colour on what is really under it: the frame's colour, or the search's, faded for the
		// focused frame's ancestors (drawn at 60% over the page)
		const inkAt = (i, m, faded) => {
			if (!this.matchName) this.colorOf(i);
			const c = this.matchName ? (m ? rgbHit : rgbDim) : this.rgb.subarray(3 * i, 3 * i + 3);
			if (!faded) return this.matchName ? inkOn(c) : this.ink[i];
			return inkOn([0, 1, 2].map((k) => Math.round(0.6 * c[k] + 0.4 * rgbBg[k])));
		};
		ctx.font = '12px system-ui, sans-serif';
		ctx.textBaseline = 'middle';
		const { x0, x1, focus } = this.view, scale = w / (x1 - x0), focusLevel = g.level[focus];
		this.runs = [];
		this.labels = [];
		this.drawn = 0;
		for (let L = 0; L < g.nLevels; L++) {
			const y = this.rowY(L, h), runs = [];
			let run = null;
			const flush = () => {
				if (!run) return;
				// a run that holds a search match shows it, so that a match never hides in a grey run
				ctx.fillStyle = run.match ? hit : narrow;
				ctx.fillRect(run.px0, y, Math.max(1, run.px1 - run.px0), ROW - 1);
				runs.push(run);
				run = null;
			};
			for (let i = firstAfter(g, L, x0), e = g.levelStart[L + 1]; i < e && g.start[i] < x1; i++) {
				if (!g.total[i]) continue;
				const px0 = (Math.max(g.start[i], x0) - x0) * scale, px1 = (Math.min(g.start[i] + g.total[i], x1) - x0) * scale;
				if (px1 - px0 < MIN_PX) {
					const hm = this.matchName ? this.matchName[g.name[i]] : 0;
					if (run && px0 - run.px1 < 1) { run.px1 = px1; run.count++; run.ticks += g.total[i]; run.match |= hm; }
					else { flush(); run = { px0, px1, count: 1, ticks: g.total[i], first: i, match: hm }; }
					continue;
				}
				flush();
				const m = this.matchName ? this.matchName[g.name[i]] : 1;
				ctx.fillStyle = !this.matchName ? this.colorOf(i) : m ? hit : dim;
				ctx.globalAlpha = L < focusLevel ? 0.6 : 1;
				ctx.fillRect(px0, y, px1 - px0 - 0.5, ROW - 1);
				ctx.globalAlpha = 1;
				this.drawn++;
				if (px1 - px0 > 24) {
					const s = g.names[g.name[i]], fit = Math.floor((px1 - px0 - 6) / 6.5);
					ctx.fillStyle = inkAt(i, m, L < focusLevel);
					this.labels.push({ node: i, x: px0, y, ink: ctx.fillStyle });
					ctx.fillText(s.length <= fit ? s : s.slice(0, Math.max(1, fit - 1)) + '…', px0 + 3, y + ROW / 2);
				}
			}
			flush();
			this.runs.push(runs);
		}
		this.drawMs = performance.now() - t0;
		if (this.opts.onDraw) this.opts.onDraw(this);
	}

	// What is under the mouse: {node} or {run} or null.
	pick(e) {
		const g = this.g;
		if (!g) return null;
		const r = this.canvas.getBoundingClientRect(), mx = e.clientX - r.left, my = e.clientY - r.top;
		const h = g.nLevels * ROW, L = this.mode === 'icicle' ? Math.floor(my / ROW) : Math.floor((h - my) / ROW);
		if (L < 0 || L >= g.nLevels) return null;
		const run = (this.runs[L] || []).find((x) => mx >= x.px0 - 0.5 && mx <= Math.max(x.px1, x.px0 + 1) + 0.5);
		if (run) return { run };
		const { x0, x1 } = this.view, i = nodeAt(g, L, x0 + mx * (x1 - x0) / r.width);
		return i >= 0 ? { node: i } : null;
	}

	hover(e) {
		const p = this.pick(e), g = this.g;
		if (!p || !this.tip) return this.hideTip();
		const tot = this.base(), unit = g.meta;
		let html;
		if (p.run) {
			html = `<b>${p.run.count} frame${p.run.count > 1 ? 's' : ''} too narrow to show</b><br>` +
				`${fmtValue(p.run.ticks, unit)} · ${fmtPct(p.run.ticks / tot)} of the total<br><i>click to zoom in</i>`;
		} else {
			const i = p.node, name = esc(g.names[g.name[i]]);
			if (g.diff) {
				const l = g.leftTicks ? g.lt[i] / g.leftTicks : 0, r = g.rightTicks ? g.rt[i] / g.rightTicks : 0;
				html = `<b>${name}</b><br>left: ${fmtPct(l)} (${fmtValue(g.lt[i], unit)})<br>right: ${fmtPct(r)} (${fmtValue(g.rt[i], unit)})` +
					`<br>change: ${l ? (r >= l ? '+' : '') + fmtPct((r - l) / l) : 'new'}`;
			} else {
				html = `<b>${name}</b><br>total: ${fmtValue(g.total[i], unit)} · ${fmtPct(g.total[i] / tot)}` +
					`<br>self: ${fmtValue(g.self[i], unit)} · ${fmtPct(g.self[i] / tot)}`;
			}
		}
		this.tip.innerHTML = html;
		this.tip.hidden = false;
		const tw = this.tip.offsetWidth, th = this.tip.offsetHeight;
		this.tip.style.left = Math.min(e.clientX + 12, window.innerWidth - tw - 4) + 'px';
		this.tip.style.top = Math.min(e.clientY + 12, window.innerHeight - th - 4) + 'px';
	}

	hideTip() { if (this.tip) this.tip.hidden = true; }

	click(e) {
		const p = this.pick(e);
		if (!p) return;
		if (p.node !== undefined) return this.focus(p.node);
		// a run of narrow frames: zoom to its range, under the node that holds all of it
		const g = this.g, par = g.parent[p.run.first], { x0, x1 } = this.view, w = this.canvas.getBoundingClientRect().width;
		const t0 = x0 + p.run.px0 * (x1 - x0) / w, t1 = x0 + Math.max(p.run.px1, p.run.px0 + 1) * (x1 - x0) / w;
		this.view = { focus: par >= 0 ? par : 0, x0: t0, x1: Math.max(t1, t0 + 1) };
		this.draw();
	}

	// For tests and the table: every node named `name`, with its share and where it was drawn.
	find(name) {
		const g = this.g, out = [];
		if (!g) return out;
		for (let i = 0; i < g.n; i++) {
			if (g.names[g.name[i]] !== name) continue;
			const o = { index: i, path: this.pathOf(i), level: g.level[i], total: g.total[i], self: g.self[i], share: g.total[i] / g.total[0], ofWhole: g.total[i] / this.base(), selfOfWhole: g.self[i] / this.base() };
			if (g.diff) { o.left = g.leftTicks ? g.lt[i] / g.leftTicks : 0; o.right = g.rightTicks ? g.rt[i] / g.rightTicks : 0; }
			const { x0, x1 } = this.view, w = this.canvas.getBoundingClientRect().width, s = w / (x1 - x0);
			o.px = { x: (g.start[i] - x0) * s, w: g.total[i] * s, y: this.rowY(g.level[i], g.nLevels * ROW) + ROW / 2 };
			out.push(o);
		}
		return out;
	}
}

export function esc(s) {
	return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}
