// The single-page UI's entry: picks the page of the URL's path, keeps one instance per page so that a
// change of state (brush, search, focus) updates it in place, and handles links, the theme and the keys.
import { setRouter, page, params } from './state.js';
import { token, setToken, download } from './api.js';
import { openSpeedscope } from './downloads.js';
import { Services } from './pages/services.js';
import { Explore } from './pages/explore.js';
import { Compare } from './pages/compare.js';
import { Profiles } from './pages/profiles.js';
import { Tags } from './pages/tags.js';
import { Trend } from './pages/trend.js';

const PAGES = { services: Services, explore: Explore, compare: Compare, profiles: Profiles, tags: Tags, trend: Trend };
const main = document.getElementById('main');
let current = null, currentName = '';

function route() {
	let name = page();
	if (!PAGES[name]) name = 'services';
	if (name !== currentName) {
		currentName = name;
		current = new PAGES[name]();
		main.innerHTML = '';
		current.mount(main);
		window.__kilnPage = current;
		document.querySelectorAll('[data-nav]').forEach((a) => a.setAttribute('aria-current', a.dataset.nav === name ? 'page' : 'false'));
		document.title = 'kiln · ' + name;
	}
	current.update(params());
}

setRouter(route);
window.addEventListener('popstate', route);
document.addEventListener('click', (e) => {
	const a = e.target.closest('a');
	if (a && a.classList.contains('open-speedscope') && token()) {
		e.preventDefault();
		openSpeedscope(a).catch((err) => { const s = main.querySelector('.status'); if (s) { s.textContent = 'Error: ' + err.message; s.classList.add('error'); } });
		return;
	}
	// with a token, a download goes through fetch so that it carries the Authorization header
	if (a && a.hasAttribute('download') && a.origin === location.origin && !a.href.startsWith('blob:') && token()) {
		e.preventDefault();
		const u = new URL(a.href), fmt = u.searchParams.get('format');
		download(a.href, a.getAttribute('download') || 'kiln-' + (u.searchParams.get('id') || 'export') + (fmt === 'pprof' ? '.pb.gz' : '.folded'))
			.catch((err) => { const s = main.querySelector('.status'); if (s) { s.textContent = 'Error: ' + err.message; s.classList.add('error'); } });
		return;
	}
	if (!a || a.hasAttribute('download') || a.origin !== location.origin || !a.pathname.startsWith('/ui') || e.ctrlKey || e.metaKey) return;
	e.preventDefault();
	history.pushState(null, '', a.pathname + a.search);
	route();
});
document.addEventListener('keydown', (e) => {
	const typing = /^(INPUT|SELECT|TEXTAREA)$/.test(document.activeElement.tagName);
	if (e.key === '/' && !typing) {
		const s = main.querySelector('.search-input');
		if (s) { e.preventDefault(); s.focus(); s.select(); }
	} else if (e.key === 'Escape') {
		if (typing) document.activeElement.blur();
		if (current && current.escape) current.escape();
	}
});

function setTheme(t) {
	document.documentElement.dataset.theme = t;
	localStorage.setItem('kiln.theme', t);
	document.getElementById('theme').setAttribute('aria-pressed', String(t === 'dark'));
	const flames = current ? [current.flame, current.sandwich && current.sandwich.callers, current.sandwich && current.sandwich.callees] : [];
	for (const f of flames) if (f && f.g) { f.computeColors(); f.draw(); }
	if (current && current.timeline) current.timeline.draw();
}
setTheme(new URLSearchParams(location.search).get('theme') || localStorage.getItem('kiln.theme') ||
	(matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light'));
document.getElementById('theme').addEventListener('click', () => setTheme(document.documentElement.dataset.theme === 'dark' ? 'light' : 'dark'));

// The API token control: shown and hidden by the key button; saving reloads the page with the token in use.
const tokenBtn = document.getElementById('token'), tokenForm = document.getElementById('token-form');
const tokenState = () => {
	tokenForm.querySelector('.token-state').textContent = token() ? 'a token is set' : 'no token';
	tokenBtn.classList.toggle('on', !!token());
};
tokenBtn.addEventListener('click', () => {
	tokenForm.hidden = !tokenForm.hidden;
	tokenBtn.setAttribute('aria-expanded', String(!tokenForm.hidden));
	if (!tokenForm.hidden) tokenForm.elements.token.focus();
});
tokenForm.addEventListener('submit', (e) => {
	e.preventDefault();
	setToken(tokenForm.elements.token.value.trim());
	location.reload();
});
tokenForm.querySelector('.clear').addEventListener('click', () => { setToken(''); location.reload(); });
tokenState();
route();
