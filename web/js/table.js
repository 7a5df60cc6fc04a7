// The top table: one row per function, self and total (a function counted once per stack even when it
// recurses), sortable by any column, filtered by the search. In a diff, the left and right shares and the change.
import { fmtValue, fmtPct } from './format.js';
import { esc } from './flame.js';

// Per-function sums of a parsed graph (flame.js): {name, self, total[, left, right]}.
export function functionTotals(g) {
	const by = new Map(), onPath = new Map();
	const kids = new Int32Array(g.n + 1), order = new Int32Array(g.n);
	for (let i = 1; i < g.n; i++) kids[g.parent[i] + 1]++;
	for (let i = 1; i <= g.n; i++) kids[i] += kids[i - 1];
	const fill = kids.slice();
	for (let i = 1; i < g.n; i++) order[fill[g.parent[i]]++] = i;
	const row = (name) => {
		let r = by.get(name);
		if (!r) by.set(name, r = { name, self: 0, total: 0, lt: 0, rt: 0, ls: 0, rs: 0 });
		return r;
	};
	// depth-first with a count of each name on the current path: a frame adds to its function's total only
	// when no caller on its stack is the same function
	const stack = [0], phase = [0];
	while (stack.length) {
		const i = stack[stack.length - 1], nm = g.name[i];
		if (phase[phase.length - 1] === 0) {
			phase[phase.length - 1] = 1;
			if (i) {
				const r = row(g.names[nm]), c = onPath.get(nm) || 0;
				r.self += g.self[i];
				if (g.diff) { r.ls += g.ls[i]; r.rs += g.rs[i]; }
				if (!c) { r.total += g.total[i]; if (g.diff) { r.lt += g.lt[i]; r.rt += g.rt[i]; } }
				onPath.set(nm, c + 1);
			}
			for (let k = kids[i + 1] - 1; k >= kids[i]; k--) { stack.push(order[k]); phase.push(0); }
		} else {
			stack.pop(); phase.pop();
			if (i) onPath.set(nm, onPath.get(nm) - 1);
		}
	}
	return [...by.values()];
}

export class TopTable {
	constructor(container, opts = {}) {
		this.el = container;
		this.opts = opts;
		this.sort = { key: 'self', desc: true };
		this.filter = '';
	}

	setGraph(g) { this.g = g; this.rows = functionTotals(g); this.render(); }
	setFilter(q) { this.filter = (q || '').toLowerCase(); this.render(); }

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
		let rows = this.rows.filter((r) => !this.filter || r.name.toLowerCase().includes(this.filter));
		rows.sort((a, b) => {
			const x = this.value(a, key), y = this.value(b, key);
			const c = typeof x === 'string' ? x.localeCompare(y) : x - y;
			return desc ? -c : c;
		});
		const shown = rows.slice(0, 500);
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
