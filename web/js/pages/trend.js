// Trend: kiln serve's benchmark runs over commits (kiln push-bench --push, kiln bench --push), drawn by the
// charts of `kiln trend`'s static page (../trendchart.js) from GET /api/v1/bench/trend; a change point opens
// the per-function table and the differential flame graph of its last good and first bad runs' profiles
// (GET /api/v1/bench/diff). State: branch, machine (the filters), commit (a link template with {commit}).
import * as api from '../api.js';
import { params, replace } from '../state.js';
import '../trendchart.js';

export class Trend {
	mount(root) {
		root.innerHTML = '<h1>Benchmark trends</h1><div class="status" role="status"></div><div class="trend"></div>';
		this.root = root;
		this.status = root.querySelector('.status');
		this.host = root.querySelector('.trend');
		this.loaded = false;
	}

	// The profile diff of a change, by the ids of its runs; the graph is the server's SVG (a frame of this
	// origin), or with a token, fetched and shown as an image (a frame cannot send the token).
	async diff(D, c) {
		const good = D.runs[c.good_run], bad = D.runs[c.bad_run];
		if (!good.profile || !bad.profile)
			return { diff_note: `no profile stored with the ${good.profile ? 'first bad' : 'last good'} run` };
		const q = { before: good.id, after: bad.id };
		const x = await api.getJSON('/api/v1/bench/diff', q);
		const svg = '/api/v1/bench/diff?' + new URLSearchParams({ ...q, format: 'svg' });
		if (!api.token()) return { ...x, graphUrl: svg };
		const r = await fetch(svg, { headers: api.authHeaders() });
		return { ...x, graphImage: r.ok ? await r.text() : '' };
	}

	async update(p) {
		if (this.loaded) return;
		this.loaded = true;
		this.root.dataset.loaded = '';
		this.status.textContent = 'Loading…';
		let D;
		try {
			D = await api.getJSON('/api/v1/bench/trend', {});
		} catch (e) {
			this.status.textContent = 'Error: ' + e.message;
			this.status.classList.add('error');
			return;
		}
		this.status.textContent = D.series.length ? '' :
			'No benchmark runs stored yet: push some with kiln push-bench --push or kiln bench --push.';
		this.view = globalThis.kilnTrend.mount(this.host, D, {
			branch: p.branch, machine: p.machine, commitUrl: p.commit && p.commit.includes('{commit}') ? p.commit : undefined,
			diff: (c) => this.diff(D, c),
			onFilter: (branch, machine) => { if (params().branch !== branch || params().machine !== machine) replace({ branch, machine }); },
		});
		window.__kilnTrend = this.view;
		this.root.dataset.loaded = '1';
	}
}
