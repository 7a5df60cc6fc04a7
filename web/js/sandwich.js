// The sandwich view of one function: its callers (drawn as a flame graph growing up from the function) and its
// callees (an icicle hanging below it), both merged from the current selection's flame graph. A sample counts
// once: at the function's outermost frame on its stack, so that recursion neither doubles the callers nor
// cuts the callees short, and the function's width is its total in the top table (table.js).
import { FlameGraph, esc } from './flame.js';
import { fmtValue, fmtPct } from './format.js';

// A merged tree: {name, total, self, kids: Map}.
function node(name) { return { name, total: 0, self: 0, kids: new Map() }; }
function kid(t, name) {
	let k = t.kids.get(name);
	if (!k) t.kids.set(name, k = node(name));
	return k;
}

// The callers and callees trees of function `fn` in parsed graph `g` (flame.js); null when it is absent.
export function sandwichTrees(g, fn) {
	const id = g.names.indexOf(fn);
	if (id < 0) return null;
	const callers = node(fn), callees = node(fn);
	// nodes come level by level, so a parent is always seen before its children
	const inside = new Array(g.n).fill(null);
	for (let i = 1; i < g.n; i++) {
		const p = g.parent[i], up = p >= 0 ? inside[p] : null;
		if (up) {
			const t = kid(up, g.names[g.name[i]]);
			t.total += g.total[i]; t.self += g.self[i];
			inside[i] = t;
		} else if (g.name[i] === id) {
			callees.total += g.total[i]; callees.self += g.self[i];
			inside[i] = callees;
			// the callers: this frame's stack read upwards, its outermost caller is where it ends
			let t = callers;
			t.total += g.total[i];
			for (let a = p; a > 0; a = g.parent[a]) { t = kid(t, g.names[g.name[a]]); t.total += g.total[i]; }
			t.self += g.total[i];
		}
	}
	return callers.total ? { callers, callees } : null;
}

// A tree as a flamebearer document ("single"), the tree's root at level 0, children by weight.
export function treeDoc(root, meta) {
	const names = [], index = new Map(), levels = [];
	const nameId = (s) => { let i = index.get(s); if (i === undefined) { index.set(s, i = names.length); names.push(s); } return i; };
	let row = [{ t: root, start: 0 }];
	while (row.length) {
		const lv = [], next = [];
		let end = 0;
		for (const { t, start } of row) {
			lv.push(start - end, t.total, t.self, nameId(t.name));
			end = start + t.total;
			let x = start;
			for (const k of [...t.kids.values()].sort((a, b) => b.total - a.total || (a.name < b.name ? -1 : 1))) {
				next.push({ t: k, start: x });
				x += k.total;
			}
		}
		levels.push(lv);
		row = next;
	}
	return { flamebearer: { names, levels, numTicks: root.total, maxSelf: 0 }, metadata: { ...meta, format: 'single' } };
}

export class Sandwich {
	constructor(container, opts = {}) {
		this.el = container;
		this.opts = opts;
		container.innerHTML = '<h2 class="sw-title"></h2><p class="sw-sum muted"></p><h3 class="sw-h">Callers</h3><div class="sw-callers"></div>' +
			'<h3 class="sw-h">Callees</h3><div class="sw-callees"></div>';
		this.title = container.querySelector('.sw-title');
		this.sum = container.querySelector('.sw-sum');
		this.callers = new FlameGraph(container.querySelector('.sw-callers'), { label: 'callers of the function' });
		this.callees = new FlameGraph(container.querySelector('.sw-callees'), { label: 'callees of the function' });
		this.callers.setMode('flame');
		this.callees.setMode('icicle');
	}

	// Shows function `fn` of graph `g`; false when the selection does not hold it.
	set(g, fn) {
		this.fn = fn;
		const t = fn ? sandwichTrees(g, fn) : null, whole = g.total[0] || 1;
		this.title.textContent = fn ? 'Sandwich: ' + fn : 'Sandwich';
		if (!t) {
			this.sum.textContent = fn ? 'The function is not in this selection.' : 'Pick a function in the table (⇅) or right-click a frame.';
			this.callers.clear(); this.callees.clear();
			return false;
		}
		this.sum.innerHTML = `total ${esc(fmtValue(t.callers.total, g.meta))} · ${fmtPct(t.callers.total / whole)} of the selection; ` +
			`self ${esc(fmtValue(t.callees.self, g.meta))} · ${fmtPct(t.callees.self / whole)}`;
		this.callers.shareBase = whole;
		this.callees.shareBase = whole;
		this.callers.setData(treeDoc(t.callers, g.meta));
		this.callees.setData(treeDoc(t.callees, g.meta));
		this.setSearch(this.opts.search);
		return true;
	}

	setSearch(q) { this.opts.search = q || ''; this.callers.setSearch(q); this.callees.setSearch(q); }
}
