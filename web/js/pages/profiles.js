// Profiles: the individual profiles of a selection, newest first, each downloadable as pprof, folded,
// speedscope or SVG and opened in the shipped speedscope (downloads.js); tick two to compare them (their own labels and time ranges on each side).
import * as api from '../api.js';
import { esc } from '../flame.js';
import { QueryBar } from '../querybar.js';
import { downloadLinks } from '../downloads.js';
import { fmtTime, fmtValue } from '../format.js';
import { go, link, params } from '../state.js';
import { normTime, queryState } from './explore.js';

function selectorOf(labels) {
	return '{' + Object.entries(labels).filter(([k]) => !k.startsWith('__'))
		.map(([k, v]) => `${k}="${v.replace(/["\\]/g, '\\$&')}"`).join(',') + '}';
}

export class Profiles {
	mount(root) {
		root.innerHTML = `<h1 class="sr">Profiles</h1><div class="qb"></div><div class="status" role="status"></div>
			<div class="toolbar"><button type="button" class="diff2" disabled>Compare the two ticked</button></div>
			<table class="profiles"><thead><tr><th scope="col"><span class="sr">Pick</span></th><th scope="col">Time</th>
			<th scope="col">Total</th><th scope="col">Labels</th><th scope="col">Download</th></tr></thead><tbody></tbody></table>`;
		this.root = root;
		this.qb = new QueryBar(root.querySelector('.qb'), {
			onSubmit: (v) => go('profiles', { type: v.type, sel: v.selector, from: normTime(v.from), until: normTime(v.until) }),
		});
		this.btn = root.querySelector('.diff2');
		this.btn.addEventListener('click', () => {
			const [a, b] = this.picked();
			go('compare', { type: a.labels.__profile_type__, lsel: selectorOf(a.labels), lfrom: String(Math.floor(a.from / 1e9)),
				luntil: String(Math.ceil(a.until / 1e9)), rsel: selectorOf(b.labels), rfrom: String(Math.floor(b.from / 1e9)),
				runtil: String(Math.ceil(b.until / 1e9)) });
		});
	}

	picked() {
		return [...this.root.querySelectorAll('tbody input:checked')].map((c) => this.list[Number(c.dataset.i)]);
	}

	async update(p) {
		const q = queryState(p), status = this.root.querySelector('.status');
		this.qb.set(q);
		status.textContent = 'Loading…';
		this.root.dataset.loaded = '';
		try {
			this.list = (await api.profilesList(q.type + q.selector, q.from, q.until, 500)).profiles || [];
		} catch (e) {
			status.textContent = 'Error: ' + e.message;
			return;
		}
		const meta = q.type.endsWith(':nanoseconds') ? { units: 'samples', sampleRate: 1e9 } : {};
		status.textContent = this.list.length ? `${this.list.length} profiles` : 'No profiles in this range.';
		this.root.querySelector('tbody').innerHTML = this.list.map((pr, i) => {
			const labels = Object.entries(pr.labels).filter(([k]) => !k.startsWith('__')).map(([k, v]) => `<code>${esc(k)}=${esc(v)}</code>`).join(' ');
			const open = link('explore', { type: q.type, sel: selectorOf(pr.labels), from: String(Math.floor(pr.from / 1e9)), until: String(Math.ceil(pr.until / 1e9)) });
			return `<tr><td><input type="checkbox" data-i="${i}" aria-label="pick profile ${esc(pr.id)}"></td>` +
				`<td><a href="${esc(open)}">${fmtTime(pr.from / 1e9)}</a></td><td class="num">${fmtValue(pr.total, meta)}</td><td>${labels}</td>` +
				`<td class="dl">${downloadLinks((f) => api.profileUrl(pr.id, f), 'kiln-' + pr.id, 'profile ' + pr.id)}</td></tr>`;
		}).join('');
		this.root.querySelectorAll('tbody input').forEach((c) => c.addEventListener('change', () => { this.btn.disabled = this.picked().length !== 2; }));
		this.root.dataset.loaded = '1';
	}
}
