// Services: every service and profile type in the range, with its total and a sparkline; a click explores it.
import * as api from '../api.js';
import { esc } from '../flame.js';
import { sparkline } from '../timeline.js';
import { fmtValue, toSeconds } from '../format.js';
import { link, go } from '../state.js';

const UNITS = { nanoseconds: { units: 'samples', sampleRate: 1e9 }, bytes: { units: 'bytes' } };

export class Services {
	mount(root) {
		root.innerHTML = `<h1>Services</h1><form class="svc-range"><label>Range <select name="range">
			${['now-15m', 'now-1h', 'now-6h', 'now-24h', 'now-7d'].map((r) => `<option>${r}</option>`).join('')}</select></label></form>
			<div class="status" role="status"></div><table class="services"><thead><tr><th scope="col">Service</th>
			<th scope="col">Profile type</th><th scope="col">Total</th><th scope="col">Trend</th></tr></thead><tbody></tbody></table>`;
		this.root = root;
		root.querySelector('select').addEventListener('change', (e) => go('services', { range: e.target.value }));
	}

	async update(p) {
		const range = p.range || 'now-1h', until = toSeconds('now'), from = toSeconds(range);
		this.root.querySelector('select').value = range;
		const status = this.root.querySelector('.status'), body = this.root.querySelector('tbody');
		status.textContent = 'Loading…';
		this.root.dataset.loaded = '';
		const step = Math.max(15, Math.floor((until - from) / 60));
		const rows = [];
		try {
			for (const t of await api.profileTypes()) {
				for (const s of await api.selectSeries(t.ID, '{}', from, until, ['service_name'], step)) {
					const svc = (s.labels || []).find((l) => l.name === 'service_name');
					const vals = new Array(Math.ceil((until - from) / step)).fill(0);
					let sum = 0;
					for (const pt of s.points || []) {
						const i = Math.floor((Number(pt.timestamp) / 1000 - from) / step);
						if (i >= 0 && i < vals.length) vals[i] += pt.value;
						sum += pt.value;
					}
					rows.push({ svc: svc ? svc.value : '', type: t, vals, sum });
				}
			}
		} catch (e) {
			status.textContent = 'Error: ' + e.message;
			return;
		}
		rows.sort((a, b) => a.svc.localeCompare(b.svc) || a.type.ID.localeCompare(b.type.ID));
		status.textContent = rows.length ? '' : 'No profiles in this range.';
		body.innerHTML = rows.map((r) => {
			const href = link('explore', { type: r.type.ID, sel: `{service_name="${r.svc}"}`, from: range, until: 'now' });
			return `<tr><td><a href="${esc(href)}">${esc(r.svc || '(none)')}</a></td><td>${esc(r.type.name)}:${esc(r.type.sampleType)}</td>` +
				`<td class="num">${fmtValue(r.sum, UNITS[r.type.sampleUnit] || {})}</td><td>${sparkline(r.vals)}</td></tr>`;
		}).join('');
		this.root.dataset.loaded = '1';
	}
}
