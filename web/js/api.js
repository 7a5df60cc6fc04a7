// The server's own APIs, and nothing else: Pyroscope's Connect querier (JSON), its render API and kiln's
// /api/v1 (docs/serve.md). Every URL is relative to this server.
export const CPU = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';

// With --auth-file the server wants a token on every read; the page cannot know one, so the user pastes it
// once (the header's key button, app.js) and it stays in this browser's localStorage.
const TOKEN_KEY = 'kiln.token';
export const token = () => localStorage.getItem(TOKEN_KEY) || '';
export function setToken(t) {
	if (t) localStorage.setItem(TOKEN_KEY, t);
	else localStorage.removeItem(TOKEN_KEY);
}
export function authHeaders(h = {}) {
	const t = token();
	return t ? { ...h, Authorization: 'Bearer ' + t } : h;
}

function qs(o) {
	const p = new URLSearchParams();
	for (const [k, v] of Object.entries(o)) if (v !== undefined && v !== null && v !== '') p.set(k, v);
	return p.toString();
}

async function check(r) {
	if (r.ok) return r;
	let msg = r.status + ' ' + r.statusText;
	try { msg = (await r.json()).message || msg; } catch (_) { /* not JSON */ }
	if (r.status === 401 || r.status === 403) msg += token() ? ' (check the API token: the key button above)' : ' (set an API token: the key button above)';
	throw new Error(msg);
}

export async function getJSON(path, params) {
	return (await check(await fetch(path + '?' + qs(params), { headers: authHeaders() }))).json();
}

export async function connect(method, body) {
	const r = await fetch('/querier.v1.QuerierService/' + method, {
		method: 'POST', headers: authHeaders({ 'Content-Type': 'application/json' }), body: JSON.stringify(body),
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
// A download link's file, fetched with the token (a plain link cannot carry the header) and saved under `name`.
export async function download(href, name) {
	const blob = await (await check(await fetch(href, { headers: authHeaders() }))).blob();
	const a = document.createElement('a');
	a.href = URL.createObjectURL(blob);
	a.download = name;
	document.body.appendChild(a);
	a.click();
	a.remove();
	setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

export const exportUrl = (query, from, until, format) => '/api/v1/export?' + qs({ query, from, until, format });
export const analyze = (query, from, until) => getJSON('/api/v1/analyze', { query, from, until });
export const profileUrl = (id, format) => '/api/v1/profile?' + qs({ id, format });

// Totals per step for each value of `groupBy` (seconds in, milliseconds on the wire).
export function selectSeries(type, selector, from, until, groupBy, step) {
	return connect('SelectSeries', {
		profileTypeID: type, labelSelector: selector, start: from * 1000, end: until * 1000, groupBy, step,
	}).then((r) => r.series || []);
}
