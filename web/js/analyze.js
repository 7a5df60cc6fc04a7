// The analyze panel: kiln analyze's document for the current selection (GET /api/v1/analyze, the JSON of
// docs/analyze-json.md): the hotspots by self time with their severity, and the recommendations of the rules
// that fired. The numbers are the server's, as `kiln analyze --json --detailed` prints them for that profile.
import * as api from './api.js';
import { esc } from './flame.js';
import { fmtValue } from './format.js';

const pct = (x) => Number(x).toFixed(1) + '%';

export class AnalyzePanel {
	constructor(container, opts = {}) {
		this.el = container;
		this.opts = opts;
	}

	async load(query, from, until, meta) {
		const key = JSON.stringify([query, from, until]);
		if (key === this.key) return;
		this.key = key;
		this.el.dataset.loaded = '';
		this.el.innerHTML = '<p class="status" role="status">Analyzing…</p>';
		let doc;
		try {
			doc = await api.analyze(query, from, until);
		} catch (e) {
			if (key === this.key) this.el.innerHTML = `<p class="status error" role="status">${esc(e.message)}</p>`;
			return;
		}
		if (key !== this.key) return;
		this.doc = doc;
		this.render(doc, meta);
		this.el.dataset.loaded = '1';
	}

	render(doc, meta) {
		const fn = (f) => `<span class="fn" title="${esc(f.module || '')}">${esc(f.function)}</span>`;
		const hot = doc.hotspots.map((h) => `<tr data-fn="${esc(h.function)}"><td>${fn(h)}</td><td class="num">${pct(h.self_pct)}</td>` +
			`<td class="num">${pct(h.total_pct)}</td><td class="num">${fmtValue(h.self, meta)}</td>` +
			`<td><span class="sev sev-${esc(h.severity)}">${esc(h.severity)}</span></td>` +
			`<td>${(h.callers || []).slice(0, 3).map(fn).join(', ')}</td></tr>`).join('');
		const recs = doc.recommendations.map((r) => `<li class="rec" data-rule="${esc(r.rule)}"><h3>${esc(r.title)} ` +
			`<span class="sev sev-${esc(r.severity)}">${esc(r.severity)}</span></h3><p>${esc(r.message)}</p></li>`).join('');
		this.el.innerHTML = `<h2>Hotspots</h2><p class="muted">functions with at least ${doc.threshold_pct}% of the selection in their own code; ` +
			`${doc.unique_stacks} stacks, ${doc.functions} functions</p>` +
			(hot ? `<table class="hotspots"><thead><tr><th scope="col">Function</th><th scope="col">Self</th><th scope="col">Total</th>` +
				`<th scope="col">Self value</th><th scope="col">Severity</th><th scope="col">Called from</th></tr></thead><tbody>${hot}</tbody></table>`
				: '<p>No function reaches the threshold.</p>') +
			`<h2>Recommendations</h2>` + (recs ? `<ul class="recs">${recs}</ul>` : '<p>No rule fired for this selection.</p>');
	}
}
