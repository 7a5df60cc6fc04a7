// The top table: one row per function, self and total (a function counted once per stack even when it
// recurses), sortable by any column, filtered by the search. In a diff, the left and right shares and the change.
import { fmtValue, fmtPct } from './format.js';
import { esc } from './flame.js';

// Per-function sums of a parsed graph (flame.js): {name, self, total[, lt, rt, ls, rs]}. Sums are kept in typed
// arrays by name id (flamebearer names are unique), so a 100,000-node graph is one pass without a Map.
export function functionTotals(g) {
	const nn = g.names.length, seen = new Uint8Array(nn), onPath = new Int32Array(nn);
	const self = new Float64Array(nn), total = new Float64Array(nn);
	const lt = new Float64Array(g.diff ? nn : 0), rt = new Float64Array(g.diff ? nn : 0);
	const ls = new Float64Array(g.diff ? nn : 0), rs = new Float64Array(g.diff ? nn : 0);
	const kids = new Int32Array(g.n + 1), order = new Int32Array(g.n);
	for (let i = 1; i < g.n; i++) kids[g.parent[i] + 1]++;
	for (let i = 1; i <= g.n; i++) kids[i] += kids[i - 1];
	const fill = kids.slice();
	for (let i = 1; i < g.n; i++) order[fill[g.parent[i]]++] = i;
	// depth-first with a count of each name on the current path: a frame adds to its function's total only
	// when no caller on its stack is the same function (a node is pushed as i + 1, its exit as -(i + 1))
	const stack = [1];
	while (stack.length) {
		const e = stack.pop(), i = Math.abs(e) - 1, nm = g.name[i];
		if (e < 0) { onPath[nm]--; continue; }
		if (i) {
			seen[nm] = 1;
			self[nm] += g.self[i];
			if (g.diff) { ls[nm] += g.ls[i]; rs[nm] += g.rs[i]; }
			if (!onPath[nm]) { total[nm] += g.total[i]; if (g.diff) { lt[nm] += g.lt[i]; rt[nm] += g.rt[i]; } }
			onPath[nm]++;
			stack.push(-(i + 1));
		}
		for (let k = kids[i + 1] - 1; k >= kids[i]; k--) stack.push(order[k] + 1);
	}
	const rows = [];
	for (let nm = 0; nm < nn; nm++) {
		if (!seen[nm]) continue;
		rows.push(g.diff ? { name: g.names[nm], self: self[nm], total: total[nm], lt: lt[nm], rt: rt[nm], ls: ls[nm], rs: rs[nm] }
			: { name: g.names[nm], self: self[nm], total: total[nm] });
	}
	return rows;
}

export class TopTable {
	constructor(container, opts = {}) {
		this.el = container;
		this.opts = opts;
		this.sort = { key: 'self', desc: true };
		this.filter = '';
	}

	setGraph(g) { this.g = g; this.rows = functionTotals(g); this.render(); }
	setFilter(q) {
		const f = (q || '').toLowerCase();
		if (f === this.filter && this.shownRows === this.rows) return; // a page update re-applying the same search
		this.filter = f;
		this.render();
	}

	columns() {
		return this.g.diff
			? [['name', 'Function'], ['left', 'Left'], ['right', 'Right'], ['change', 'Change']]
			: [['name', 'Function'], ['self', 'Self'], ['total', 'Total']];
	}

	value(r, key) {
		const g = this.g;
		if (key === 'left') return g.leftTicks ? r.lt / g.leftTicks : 0;
		if (key === 'right') return g.rightTicks ? r.rt / g.rightTicks : 0;
		if (key === 'change') { const l = this.value(r, 'left'); return l ? (this.value(r, 'right') - l) / l : Infinity; }
		return r[key];
	}

	render() {
		if (!this.g) return;
		const g = this.g, tot = g.total[0] || 1, { key, desc } = this.sort;
		this.shownRows = this.rows;
		// the sort key of each row computed once, not in every comparison
		const rows = this.rows.filter((r) => !this.filter || r.name.toLowerCase().includes(this.filter)).map((r) => ({ r, v: this.value(r, key) }));
		rows.sort((a, b) => {
			const c = typeof a.v === 'string' ? a.v.localeCompare(b.v) : a.v - b.v;
			return desc ? -c : c;
		});
		const shown = rows.slice(0, 500).map((x) => x.r);
		const sw = !g.diff && this.opts.onSandwich;
		const head = this.columns().map(([k, label]) =>
			`<th scope="col" aria-sort="${k === key ? (desc ? 'descending' : 'ascending') : 'none'}"><button data-key="${k}">${label}${k === key ? (desc ? ' ▾' : ' ▴') : ''}</button></th>`).join('');
		const body = shown.map((r) => {
			const cells = g.diff
				? [fmtPct(this.value(r, 'left')), fmtPct(this.value(r, 'right')), chg(this.value(r, 'change'))]
				: [`${fmtValue(r.self, g.meta)} <small>${fmtPct(r.self / tot)}</small>`, `${fmtValue(r.total, g.meta)} <small>${fmtPct(r.total / tot)}</small>`];
			return `<tr><td class="fn" title="${esc(r.name)}">${esc(r.name)}</td>${cells.map((c) => `<td class="num">${c}</td>`).join('')}` +
				(sw ? `<td><button type="button" class="sw-btn" data-fn="${esc(r.name)}" aria-label="sandwich view of ${esc(r.name)}" title="Sandwich: callers and callees">⇅</button></td>` : '') + '</tr>';
		}).join('');
		this.el.innerHTML = `<table class="top"><thead><tr>${head}${sw ? '<th scope="col"><span class="sr">Sandwich</span></th>' : ''}</tr></thead><tbody>${body}</tbody></table>` +
			(rows.length > shown.length ? `<p class="muted">${rows.length - shown.length} more rows</p>` : '');
		this.el.querySelectorAll('th button').forEach((b) => b.addEventListener('click', () => {
			const k = b.dataset.key;
			this.sort = { key: k, desc: this.sort.key === k ? !this.sort.desc : k !== 'name' };
			this.render();
		}));
		this.el.querySelectorAll('.sw-btn').forEach((b) => b.addEventListener('click', () => this.opts.onSandwich(b.dataset.fn)));
		this.el.querySelectorAll('td.fn').forEach((td) => td.addEventListener('click', () => this.opts.onPick && this.opts.onPick(td.textContent)));
	}
}

function chg(x) {
	if (!Number.isFinite(x)) return '<span class="worse">new</span>';
	return `<span class="${x > 0.005 ? 'worse' : x < -0.005 ? 'better' : ''}">${x > 0 ? '+' : ''}${fmtPct(x)}</span>`;
}
