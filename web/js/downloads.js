// The download links of a profile or a selection: pprof, folded, speedscope and SVG from the server's export
// API, and "Open in speedscope" (the speedscope release the server ships under /speedscope/, loading the same
// speedscope export by its #profileURL=).
import { esc } from './flame.js';
import { token, authHeaders } from './api.js';

const FORMATS = [['pprof', 'pprof', '.pb.gz'], ['folded', 'folded', '.folded'], ['speedscope', 'speedscope', '.speedscope.json'], ['svg', 'SVG', '.svg']];

// `urlOf(format)` is the export URL of a format; `name` the file name without its extension; `what` says
// what is downloaded, for screen readers ("profile 12", "the selection").
export function downloadLinks(urlOf, name, what) {
	const links = FORMATS.map(([f, label, ext]) =>
		`<a download="${esc(name + ext)}" href="${esc(urlOf(f))}" aria-label="download ${esc(what)} as ${label}">${label}</a>`).join(' · ');
	return `${links} · <a class="open-speedscope" target="_blank" href="${esc(speedscopeUrl(urlOf('speedscope'), name))}" ` +
		`data-export="${esc(urlOf('speedscope'))}" aria-label="Open in speedscope: ${esc(what)} (new tab)">Open in speedscope</a>`;
}

function speedscopeUrl(exportUrl, title) {
	return '/speedscope/#profileURL=' + encodeURIComponent(new URL(exportUrl, location.origin).href) + '&title=' + encodeURIComponent(title);
}

// With a token, speedscope's own fetch could not send it: the page fetches the export itself and hands
// speedscope a blob: URL of this origin instead (kept for a minute, long enough for the new tab to read it).
export async function openSpeedscope(a) {
	if (!token()) return false;
	const r = await fetch(a.dataset.export, { headers: authHeaders() });
	if (!r.ok) throw new Error(r.status + ' ' + r.statusText);
	const blob = URL.createObjectURL(await r.blob());
	setTimeout(() => URL.revokeObjectURL(blob), 60000);
	const title = new URLSearchParams(a.hash.slice(1)).get('title') || 'kiln';
	window.open(speedscopeUrl(blob, title), '_blank');
	return true;
}
