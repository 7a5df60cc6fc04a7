// Compare: a left and a right selection, each with its own selector and time range (or one range for both:
// sync), drawn as one diff flame graph normalised by each side's total (red: a larger share on the right,
// green: smaller), and the per-function table of left and right shares. State: type, lsel, lfrom, luntil,
// rsel, rfrom, runtil, sync, search.
import * as api from '../api.js';
import { FlameGraph } from '../flame.js';
import { TopTable } from '../table.js';
import { QueryBar } from '../querybar.js';
import { fmtPct } from '../format.js';
import { go, replace, params } from '../state.js';
import { normTime, searchBox } from './explore.js';

function sides(p) {
	const type = p.type || api.CPU, sync = p.sync === '1';
	const l = { type, selector: p.lsel || '{}', from: p.lfrom || 'now-1h', until: p.luntil || 'now' };
	const r = { type, selector: p.rsel || '{}', from: sync ? l.from : p.rfrom || 'now-1h', until: sync ? l.until : p.runtil || 'now' };
	return { l, r, sync };
}

export class Compare {
	mount(root) {
		root.innerHTML = `<h1 class="sr">Compare</h1><div class="cmp-sides"><section class="side"><h2>Left (baseline)</h2><div class="qb-l"></div></section>
			<section class="side"><h2>Right (comparison)</h2><div class="qb-r"></div></section></div>
			<div class="toolbar cmp-bar"><label><input type="checkbox" class="sync"> Same time range</label>
			<button type="button" class="swap">Swap sides</button></div>
			<div class="status" role="status"></div><p class="legend"><span class="worse">red</span>: a larger share on the right ·
			<span class="better">green</span>: a smaller share</p><div class="panes" data-view="both"><div class="flame"></div><div class="table"></div></div>`;
		this.root = root;
		this.status = root.querySelector('.status');
		const set = (side, v) => {
			const p = params(), o = { ...p, type: v.type, [side + 'sel']: v.selector, [side + 'from']: normTime(v.from), [side + 'until']: normTime(v.until) };
			go('compare', o);
		};
		this.ql = new QueryBar(root.querySelector('.qb-l'), { onSubmit: (v) => set('l', v) });
		this.qr = new QueryBar(root.querySelector('.qb-r'), { onSubmit: (v) => set('r', v) });
		root.querySelector('.sync').addEventListener('change', (e) => go('compare', { ...params(), sync: e.target.checked ? '1' : '' }));
		root.querySelector('.swap').addEventListener('click', () => {
			const p = params();
			go('compare', { ...p, lsel: p.rsel, rsel: p.lsel, lfrom: p.rfrom, rfrom: p.lfrom, luntil: p.runtil, runtil: p.luntil });
		});
		const bar = root.querySelector('.cmp-bar');
		this.search = searchBox(bar, (q) => { replace({ search: q }); this.applySearch(q); });
		this.flame = new FlameGraph(root.querySelector('.flame'), {});
		this.table = new TopTable(root.querySelector('.table'), {});
		this.table.sort = { key: 'change', desc: true };
		window.__kilnFlame = this.flame;
	}

	applySearch(q) {
		const m = this.flame.setSearch(q);
		this.table.setFilter(q);
		this.search.out.textContent = q ? `matched ${fmtPct(m)}` : '';
	}

	escape() { this.flame.reset(); }

	async update(p) {
		const { l, r, sync } = sides(p);
		this.ql.set(l);
		this.qr.set(r);
		this.root.querySelector('.sync').checked = sync;
		const key = JSON.stringify([l, r]);
		this.root.dataset.loaded = '';
		if (key !== this.key) {
			this.key = key;
			this.status.textContent = 'Loading…';
			let doc;
			try {
				doc = await api.renderDiff({ query: l.type + l.selector, from: l.from, until: l.until },
					{ query: r.type + r.selector, from: r.from, until: r.until });
			} catch (e) {
				this.status.textContent = 'Error: ' + e.message;
				return;
			}
			if (key !== this.key) return;
			this.flame.setData(doc);
			this.table.setGraph(this.flame.g);
			this.status.textContent = !doc.leftTicks || !doc.rightTicks ? `No profiles on the ${!doc.leftTicks ? 'left' : 'right'} side.` : '';
		}
		this.search.input.value = p.search || '';
		this.applySearch(p.search || '');
		this.root.dataset.loaded = '1';
	}
}
