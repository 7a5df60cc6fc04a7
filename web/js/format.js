// Numbers as the flamebearer metadata says to show them: CPU and wall time are "samples" at sampleRate ticks
// per second (Pyroscope's convention, docs/serve-pyroscope.md), memory is bytes, the rest counts.
export function fmtValue(v, meta = {}) {
	if (meta.units === 'bytes') return fmtUnits(v, ['B', 'KiB', 'MiB', 'GiB', 'TiB'], 1024);
	if (meta.units === 'samples' && meta.sampleRate) return fmtSeconds(v / meta.sampleRate);
	return fmtUnits(v, ['', 'k', 'M', 'G', 'T'], 1000);
}

export function fmtSeconds(s) {
	if (s >= 3600) return (s / 3600).toFixed(2) + ' h';
	if (s >= 60) return (s / 60).toFixed(2) + ' min';
	if (s >= 1) return s.toFixed(2) + ' s';
	if (s >= 1e-3) return (s * 1e3).toFixed(2) + ' ms';
	return (s * 1e6).toFixed(1) + ' µs';
}

function fmtUnits(v, units, k) {
	let i = 0;
	while (Math.abs(v) >= k && i < units.length - 1) { v /= k; i++; }
	return (i ? v.toFixed(2) : String(Math.round(v))) + (units[i] ? ' ' + units[i] : '');
}

export function fmtPct(x) {
	const p = x * 100;
	return (Math.abs(p) >= 10 ? p.toFixed(1) : p.toFixed(2)) + '%';
}

export function fmtTime(sec) {
	const d = new Date(sec * 1000), p = (n) => String(n).padStart(2, '0');
	return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

// A time as the URL holds it ("now-1h", "now", unix seconds) in seconds since the epoch.
export function toSeconds(t, now = Date.now() / 1000) {
	if (t === undefined || t === null || t === '' || t === 'now') return Math.floor(now);
	const m = /^now-(\d+)([smhdw])$/.exec(t);
	if (m) return Math.floor(now - m[1] * { s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[m[2]]);
	if (/^\d+$/.test(t)) return Number(t);
	const ms = Date.parse(t);
	return Number.isNaN(ms) ? NaN : Math.floor(ms / 1000);
}
