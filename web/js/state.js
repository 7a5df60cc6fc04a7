// The whole state of a page lives in the URL (/ui/PAGE?k=v...): shareable, reloadable, and the back button
// walks it. Pages read it with params() and change it with go() (a new history entry) or replace().
export function params() {
	return Object.fromEntries(new URLSearchParams(location.search));
}

function href(page, p) {
	const q = new URLSearchParams();
	for (const [k, v] of Object.entries(p)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
	const s = q.toString();
	return '/ui/' + page + (s ? '?' + s : '');
}

let onChange = () => {};
export function setRouter(fn) { onChange = fn; }

export function page() {
	return location.pathname.replace(/^\/(ui\/?)?/, '').split('/')[0] || 'services';
}

export function go(pageName, p) {
	const u = href(pageName, p);
	if (u !== location.pathname + location.search) history.pushState(null, '', u);
	onChange();
}

// Changes the state without a history entry (typing in the search box).
export function replace(p) {
	history.replaceState(null, '', href(page(), { ...params(), ...p }));
}

export function link(pageName, p) { return href(pageName, p); }
