// The tag explorer: the selection grouped by one label. One line per value on the timeline (SelectSeries with
// groupBy) and a table of each value's total, mean (per time step with data) and share of the selection; a value
// opens Explore filtered to it, or Compare with that value on the left and the rest of the selection on the
// right. State: type, sel, from, until, by.
import * as api from '../api.js';
import { esc } from '../flame.js';
import { Timeline } from '../timeline.js';
import { QueryBar } from '../querybar.js';
import { fmtPct, fmtValue, toSeconds } from '../format.js';
import { go, link, params } from '../state.js';
import { normTime, queryState } from './explore.js';

// Distinct hues that read on both themes' backgrounds; a value keeps its colour by its rank.
const PALETTE = ['#1f77b4', '#e8710a', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

const GIVEN = ['service_name', 'pyroscope_spy'];
const quote = (v) => '"' + v.replace(/["\\]/g, '\\$&') + '"';

// `selector` with one more matcher: {a="b"} + (name, op, value) -> {a="b",name op "value"}.
export function withMatcher(selector, name, op, value) {
	const inner = (selector || '{}').trim().replace(/^\{/, '').replace(/\}$/, '').trim();
	return '{' + (inner ? inner + ',' : '') + name + op + quote(value) + '}';
}

function unitsOf(type) {
	return type.endsWith(':nanoseconds') && /:(cpu|wall)[:]/.test(type + ':') ? { units: 'samples', sampleRate: 1e9 }
		: type.includes(':bytes') ? { units: 'bytes' } : {};
}

export class Tags {
	mount(root) {
		root.innerHTML = `<h1 class="sr">Tag explorer</h1><div class="qb"></div>
			<div class="toolbar"><label>Group by <select class="by" aria-label="group by label"></select></label></div>
			<div class="status" role="status"></div><div class="timeline"></div>
			<table class="tags"><thead><tr><th scope="col">Value</th><th scope="col">Total</th><th scope="col">Mean per step</th>
			<th scope="col">Share</th><th scope="col"><span class="sr">Actions</span></th></tr></thead><tbody></tbody></table>`;
		this.root = root;
		this.status = root.querySelector('.status');
		this.by = root.querySelector('.by');
		this.qb = new QueryBar(root.querySelector('.qb'), {
			onSubmit: (v) => go('tags', { ...params(), type: v.type, sel: v.selector, from: normTime(v.from), until: normTime(v.until) }),
		});
		this.by.addEventListener('change', () => go('tags', { ...params(), by: this.by.value }));
		this.timeline = new Timeline(root.querySelector('.timeline'), {
			onBrush: (from, until) => go('tags', { ...params(), from: String(from), until: String(until) }),
		});
	}

	async update(p) {
		const q = queryState(p), from = toSeconds(q.from), until = toSeconds(q.until);
		this.qb.set(q);
		this.root.dataset.loaded = '';
		this.status.textContent = 'Loading…';
		this.status.classList.remove('error');
		let names, values, series;
		const step = Math.max(15, Math.ceil((until - from) / 120));
		try {
			const matchers = [q.selector];
			names = await api.labelNames(matchers);
			// by default the first label that tells series apart: not the service (usually fixed by the selector) nor
			// the ingest's agent name
			const by = p.by && names.includes(p.by) ? p.by : names.find((n) => !GIVEN.includes(n)) || names[0];
			this.label = by;
			this.by.innerHTML = names.map((n) => `<option${n === by ? ' selected' : ''}>${esc(n)}</option>`).join('');
			if (!by) { this.status.textContent = 'No labels in this selection.'; this.root.dataset.loaded = '1'; return; }
			[values, series] = await Promise.all([api.labelValues(by, matchers), api.selectSeries(q.type, q.selector, from, until, [by], step)]);
		} catch (e) {
			this.status.textContent = 'Error: ' + e.message;
			this.status.classList.add('error');
			return;
		}
		const rows = new Map(values.map((v) => [v, { value: v, total: 0, steps: 0, samples: null }]));
		const n = Math.ceil((until - from) / step);
		for (const s of series) {
			const l = (s.labels || []).find((x) => x.name === this.label), v = l ? l.value : '';
			let r = rows.get(v);
			if (!r) rows.set(v, r = { value: v, total: 0, steps: 0, samples: null });
			r.samples = r.samples || new Array(n).fill(0);
			for (const pt of s.points || []) {
				const i = Math.floor((Number(pt.timestamp) / 1000 - from) / step);
				if (i >= 0 && i < n) r.samples[i] += pt.value;
				r.total += pt.value;
				r.steps++;
			}
		}
		const list = [...rows.values()].filter((r) => r.total > 0).sort((a, b) => b.total - a.total || a.value.localeCompare(b.value));
		const sum = list.reduce((s, r) => s + r.total, 0), meta = unitsOf(q.type);
		list.forEach((r, i) => { r.color = PALETTE[i % PALETTE.length]; });
		this.rows = list;
		this.timeline.set(list.map((r) => ({ samples: r.samples, startTime: from, step, color: r.color, line: true, name: r.value })), from, until, meta);
		this.status.textContent = list.length ? '' : 'No profiles in this range.';
		const base = { type: q.type, from: q.from, until: q.until };
		this.root.querySelector('tbody').innerHTML = list.map((r) => {
			const only = withMatcher(q.selector, this.label, '=', r.value), rest = withMatcher(q.selector, this.label, '!=', r.value);
			const explore = link('explore', { ...base, sel: only });
			const compare = link('compare', { type: q.type, lsel: only, rsel: rest, lfrom: q.from, luntil: q.until, rfrom: q.from, runtil: q.until, sync: '1' });
			return `<tr data-value="${esc(r.value)}" data-total="${r.total}" data-mean="${r.total / r.steps}" data-share="${r.total / sum}">` +
				`<td><span class="swatch" style="background:${r.color}"></span><a class="tag-filter" href="${esc(explore)}">${esc(r.value || '(no value)')}</a></td>` +
				`<td class="num">${fmtValue(r.total, meta)}</td><td class="num">${fmtValue(r.total / r.steps, meta)}</td><td class="num">${fmtPct(r.total / sum)}</td>` +
				`<td><a class="tag-compare" href="${esc(compare)}">compare with the rest</a></td></tr>`;
		}).join('');
		this.root.dataset.loaded = '1';
	}
}
