// Explore: the query bar, the timeline (brush to zoom), the flame graph (flame or icicle), the top table and
// the sandwich view of one function (sandwich.js), the analyze panel (analyze.js). State in the URL: type, sel, from, until, search, view,
// focus, fn (the sandwich's function).
import * as api from '../api.js';
import { FlameGraph } from '../flame.js';
import { TopTable } from '../table.js';
import { Timeline } from '../timeline.js';
import { Sandwich } from '../sandwich.js';
import { AnalyzePanel } from '../analyze.js';
import { QueryBar } from '../querybar.js';
import { downloadLinks } from '../downloads.js';
import { fmtPct, toSeconds } from '../format.js';
import { go, replace, params, link } from '../state.js';

export function normTime(t) {
	return /^now(-\d+[smhdw])?$/.test(t) || /^\d+$/.test(t) ? t : String(toSeconds(t));
}

export function queryState(p) {
	return { type: p.type || api.CPU, selector: p.sel || '{}', from: p.from || 'now-1h', until: p.until || 'now' };
}

// A search box with the matched share beside it; `/` focuses it (app.js).
export function searchBox(container, onInput) {
	const wrap = document.createElement('div');
	wrap.className = 'search';
	wrap.innerHTML = '<label><span class="sr">Search functions</span><input type="search" class="search-input" placeholder="Search (/)" aria-label="Search functions"></label><output class="matched" aria-live="polite"></output>';
	container.appendChild(wrap);
	const input = wrap.querySelector('input');
	input.addEventListener('input', () => onInput(input.value));
	return { input, out: wrap.querySelector('output') };
}

export function viewButtons(container, views, onPick) {
	const group = document.createElement('div');
	group.className = 'seg';
	group.setAttribute('role', 'group');
	group.setAttribute('aria-label', 'view');
	group.innerHTML = views.map(([v, l]) => `<button type="button" data-view="${v}" aria-pressed="false">${l}</button>`).join('');
	group.querySelectorAll('button').forEach((b) => b.addEventListener('click', () => onPick(b.dataset.view)));
	container.appendChild(group);
	return (v) => group.querySelectorAll('button').forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.view === v)));
}

export class Explore {
	mount(root) {
		root.innerHTML = '<h1 class="sr">Explore</h1><div class="qb"></div><div class="status" role="status"></div>' +
			'<div class="timeline"></div><div class="toolbar"></div><div class="panes"><div class="flame"></div><section class="sandwich" aria-label="sandwich view"></section><section class="analyze" aria-label="analysis"></section><div class="table"></div></div>';
		this.root = root;
		this.status = root.querySelector('.status');
		this.qb = new QueryBar(root.querySelector('.qb'), {
			onSubmit: (v) => go('explore', { ...params(), type: v.type, sel: v.selector, from: normTime(v.from), until: normTime(v.until), focus: '' }),
		});
		this.timeline = new Timeline(root.querySelector('.timeline'), {
			onBrush: (from, until) => go('explore', { ...params(), from: String(from), until: String(until), focus: '' }),
		});
		const bar = root.querySelector('.toolbar');
		this.search = searchBox(bar, (q) => { replace({ search: q }); this.applySearch(q); });
		this.setView = viewButtons(bar, [['flame', 'Flame'], ['icicle', 'Icicle'], ['both', 'Flame + table'], ['table', 'Table'], ['sandwich', 'Sandwich'], ['analyze', 'Analyze']],
			(v) => go('explore', { ...params(), view: v }));
		const reset = document.createElement('button');
		reset.type = 'button';
		reset.textContent = 'Reset zoom';
		reset.addEventListener('click', () => this.flame.reset());
		bar.appendChild(reset);
		this.tagsLink = document.createElement('a');
		this.tagsLink.textContent = 'Group by a label';
		bar.appendChild(this.tagsLink);
		const dl = document.createElement('span');
		dl.className = 'downloads';
		bar.appendChild(dl);
		this.dl = dl;
		const sandwich = (fn) => go('explore', { ...params(), view: 'sandwich', fn });
		this.flame = new FlameGraph(root.querySelector('.flame'), {
			onFocus: (path) => go('explore', { ...params(), focus: path }),
			onContext: sandwich,
		});
		this.table = new TopTable(root.querySelector('.table'), {
			onPick: (name) => { this.search.input.value = name; replace({ search: name }); this.applySearch(name); },
			onSandwich: sandwich,
		});
		this.sandwich = new Sandwich(root.querySelector('.sandwich'));
		this.analyze = new AnalyzePanel(root.querySelector('.analyze'));
		window.__kilnFlame = this.flame;
		window.__kilnSandwich = this.sandwich;
	}

	applySearch(q) {
		const m = this.flame.setSearch(q);
		this.table.setFilter(q);
		this.sandwich.setSearch(q);
		this.search.out.textContent = q ? `matched ${fmtPct(m)}` : '';
		this.search.out.dataset.share = q ? String(m) : '';
	}

	escape() {
		this.flame.reset();
		if (this.sandwich.callers.g) { this.sandwich.callers.reset(); this.sandwich.callees.reset(); }
	}

	async update(p) {
		const q = queryState(p), query = q.type + q.selector, view = p.view || 'both';
		this.qb.set(q);
		this.tagsLink.href = link('tags', { type: q.type, sel: q.selector, from: q.from, until: q.until });
		this.setView(view);
		this.root.querySelector('.panes').dataset.view = view;
		this.flame.setMode(view === 'icicle' ? 'icicle' : 'flame');
		const key = JSON.stringify([query, q.from, q.until, p.maxNodes]);
		if (key !== this.key) {
			this.key = key;
			this.status.textContent = 'Loading…';
			this.root.dataset.loaded = '';
			let doc;
			const t0 = performance.now();
			try {
				doc = await api.render(query, q.from, q.until, p.maxNodes);
				performance.measure('kiln:render', { start: t0, end: performance.now() });
			} catch (e) {
				this.status.textContent = 'Error: ' + e.message;
				this.status.classList.add('error');
				return;
			}
			if (key !== this.key) return;
			this.status.classList.remove('error');
			const from = toSeconds(q.from), until = toSeconds(q.until), tl = doc.timeline || { samples: [] };
			this.timeline.set([{ samples: tl.samples, startTime: tl.startTime, step: tl.durationDelta || 15 }], from, until, doc.metadata);
			this.flame.setData(doc);
			const t1 = performance.now();
			this.table.setGraph(this.flame.g);
			performance.measure('kiln:table', { start: t1, end: performance.now() });
			this.status.textContent = doc.flamebearer.numTicks ? '' : 'No profiles in this range.';
			const from2 = String(from), until2 = String(until);
			this.dl.innerHTML = 'Download: ' + downloadLinks((f) => api.exportUrl(query, from2, until2, f), 'kiln-selection', 'the selection');
		}
		this.flame.focus(this.flame.nodeOfPath(p.focus || ''), false);
		if (view === 'sandwich' && this.flame.g && (this.sandwich.g !== this.flame.g || this.sandwich.fn !== (p.fn || ''))) {
			this.sandwich.g = this.flame.g;
			this.sandwich.set(this.flame.g, p.fn || '');
		}
		if (view === 'analyze') await this.analyze.load(query, q.from, q.until, this.flame.g && this.flame.g.meta);
		this.search.input.value = p.search || '';
		this.applySearch(p.search || '');
		this.root.dataset.loaded = '1';
		performance.mark('kiln:loaded');
	}
}
