// The server's own APIs, and nothing else: Pyroscope's Connect querier (JSON), its render API and kiln's
// /api/v1 (docs/serve.md). Every URL is relative to this server.
export const CPU = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';

function qs(o) {
	const p = new URLSearchParams();
	for (const [k, v] of Object.entries(o)) if (v !== undefined && v !== null && v !== '') p.set(k, v);
	return p.toString();
}

async function check(r) {
	if (r.ok) return r;
	let msg = r.status + ' ' + r.statusText;
	try { msg = (await r.json()).message || msg; } catch (_) { /* not JSON */ }
	throw new Error(msg);
}

export async function getJSON(path, params) {
	return (await check(await fetch(path + '?' + qs(params)))).json();
}

export async function connect(method, body) {
	const r = await fetch('/querier.v1.QuerierService/' + method, {
		method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
	});
	return (await check(r)).json();
}

// "TYPE{selector}" split into its parts.
export function splitQuery(q) {
	const i = q.indexOf('{');
	return i < 0 ? { type: q, selector: '{}' } : { type: q.slice(0, i), selector: q.slice(i) };
}

export const profileTypes = () => connect('ProfileTypes', {}).then((r) => r.profileTypes || []);
export const labelNames = (matchers) => connect('LabelNames', { matchers }).then((r) => (r.names || []).filter((n) => !n.startsWith('__')));
export const labelValues = (name, matchers) => connect('LabelValues', { name, matchers }).then((r) => r.names || []);
export const render = (query, from, until, maxNodes) => getJSON('/render', { query, from, until, maxNodes });
export const renderDiff = (l, r, maxNodes) => getJSON('/render-diff', {
	leftQuery: l.query, leftFrom: l.from, leftUntil: l.until, rightQuery: r.query, rightFrom: r.from, rightUntil: r.until, maxNodes,
});
export const profilesList = (query, from, until, limit) => getJSON('/api/v1/profiles', { query, from, until, limit });
export const exportUrl = (query, from, until, format) => '/api/v1/export?' + qs({ query, from, until, format });
export const analyze = (query, from, until) => getJSON('/api/v1/analyze', { query, from, until });
export const profileUrl = (id, format) => '/api/v1/profile?' + qs({ id, format });

// Totals per step for each value of `groupBy` (seconds in, milliseconds on the wire).
export function selectSeries(type, selector, from, until, groupBy, step) {
	return connect('SelectSeries', {
		profileTypeID: type, labelSelector: selector, start: from * 1000, end: until * 1000, groupBy, step,
	}).then((r) => r.series || []);
}
