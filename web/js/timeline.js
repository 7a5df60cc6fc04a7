// The timeline of a selection (the render API's `timeline`: values per durationDelta seconds from startTime)
// with a brush: drag across it to pick a range, which the page turns into from/until; series as bars, or as
// lines (`line: true`, one per value in the tag explorer). Also sparklines.
import { fmtTime, fmtValue } from './format.js';

export class Timeline {
	constructor(container, opts = {}) {
		this.el = container;
		this.opts = opts;
		this.canvas = document.createElement('canvas');
		this.canvas.className = 'timeline-canvas';
		this.canvas.setAttribute('aria-label', 'timeline: drag to select a time range');
		this.canvas.setAttribute('role', 'img');
		container.appendChild(this.canvas);
		this.canvas.addEventListener('mousedown', (e) => this.down(e));
		window.addEventListener('mousemove', (e) => this.move(e));
		window.addEventListener('mouseup', (e) => this.up(e));
		this.ro = new ResizeObserver(() => this.draw());
		this.ro.observe(container);
	}

	// series: [{samples, startTime, step, color}], from/until: the shown range in seconds
	set(series, from, until, meta) { this.series = series; this.from = from; this.until = until; this.meta = meta; this.draw(); }

	x(t, w) { return (t - this.from) / (this.until - this.from) * w; }
	t(px, w) { return this.from + px / w * (this.until - this.from); }

	draw() {
		if (!this.series) return;
		const w = Math.max(100, this.el.clientWidth), h = 90, dpr = window.devicePixelRatio || 1, c = this.canvas;
		c.width = w * dpr; c.height = h * dpr; c.style.width = w + 'px'; c.style.height = h + 'px';
		const ctx = c.getContext('2d'), cs = getComputedStyle(document.documentElement);
		ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
		ctx.clearRect(0, 0, w, h);
		let max = 0;
		for (const s of this.series) for (const v of s.samples) max = Math.max(max, v);
		const top = 12, base = h - 16;
		for (const s of this.series) {
			if (s.line) { this.line(ctx, s, w, base, top, max); continue; }
			ctx.fillStyle = s.color || cs.getPropertyValue('--accent').trim();
			s.samples.forEach((v, i) => {
				if (!v) return;
				const t = s.startTime + i * s.step, x = this.x(t, w), bw = Math.max(1, this.x(t + s.step, w) - x - 0.5);
				const bh = max ? v / max * (base - top) : 0;
				ctx.fillRect(x, base - bh, bw, bh);
			});
		}
		ctx.fillStyle = cs.getPropertyValue('--muted').trim();
		ctx.font = '11px system-ui, sans-serif';
		ctx.fillText(fmtTime(this.from), 2, h - 3);
		const end = fmtTime(this.until);
		ctx.fillText(end, w - ctx.measureText(end).width - 2, h - 3);
		if (max) ctx.fillText('max ' + fmtValue(max, this.meta), 2, 10);
		if (this.drag) {
			ctx.fillStyle = cs.getPropertyValue('--brush').trim();
			const a = Math.min(this.drag.a, this.drag.b), b = Math.max(this.drag.a, this.drag.b);
			ctx.fillRect(a, 0, b - a, base);
		}
	}

	// One series as a line through the middle of its steps (the tag explorer: a line per value).
	line(ctx, s, w, base, top, max) {
		ctx.strokeStyle = s.color;
		ctx.lineWidth = 1.5;
		ctx.beginPath();
		s.samples.forEach((v, i) => {
			const x = this.x(s.startTime + (i + 0.5) * s.step, w), y = base - (max ? v / max * (base - top) : 0);
			if (i) ctx.lineTo(x, y); else ctx.moveTo(x, y);
		});
		ctx.stroke();
	}

	px(e) { const r = this.canvas.getBoundingClientRect(); return Math.max(0, Math.min(r.width, e.clientX - r.left)); }
	down(e) { this.drag = { a: this.px(e), b: this.px(e) }; e.preventDefault(); }
	move(e) { if (this.drag) { this.drag.b = this.px(e); this.draw(); } }
	up() {
		if (!this.drag) return;
		const w = this.canvas.getBoundingClientRect().width, a = Math.min(this.drag.a, this.drag.b), b = Math.max(this.drag.a, this.drag.b);
		this.drag = null;
		this.draw();
		if (b - a >= 3 && this.opts.onBrush) this.opts.onBrush(Math.floor(this.t(a, w)), Math.ceil(this.t(b, w)));
	}
}

// A small inline SVG polyline of `values`.
export function sparkline(values, w = 160, h = 28) {
	const max = Math.max(1e-300, ...values), n = values.length;
	const pts = values.map((v, i) => `${(n > 1 ? i / (n - 1) : 0.5) * (w - 2) + 1},${h - 2 - v / max * (h - 4)}`).join(' ');
	return `<svg class="spark" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" aria-hidden="true"><polyline fill="none" stroke="currentColor" stroke-width="1.5" points="${pts}"/></svg>`;
}
