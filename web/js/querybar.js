// The query bar: profile type, a label selector with autocomplete of label names and values (from the
// server's LabelNames / LabelValues), a time preset or an absolute range. It reports {type, selector, from,
// until} on submit; the page keeps them in the URL.
import * as api from './api.js';
import { esc } from './flame.js';

const PRESETS = [['now-5m', 'Last 5 minutes'], ['now-15m', 'Last 15 minutes'], ['now-1h', 'Last hour'],
	['now-6h', 'Last 6 hours'], ['now-24h', 'Last 24 hours'], ['now-7d', 'Last 7 days'], ['now-30d', 'Last 30 days']];
let uid = 0;

export class QueryBar {
	constructor(container, opts = {}) {
		const id = 'qb' + (++uid);
		this.opts = opts;
		this.el = document.createElement('form');
		this.el.className = 'querybar';
		this.el.setAttribute('role', 'search');
		this.el.innerHTML = `
			<label class="f-type"><span>Profile type</span><select name="type" id="${id}-type"></select></label>
			<label class="f-sel"><span>Labels</span><input name="selector" autocomplete="off" spellcheck="false"
				placeholder='{service_name="api"}' aria-autocomplete="list" aria-controls="${id}-sug">
				<ul class="suggest" id="${id}-sug" role="listbox" hidden></ul></label>
			<label class="f-preset"><span>Range</span><select name="preset">
				${PRESETS.map(([v, l]) => `<option value="${v}">${l}</option>`).join('')}<option value="">Absolute</option></select></label>
			<label class="f-from"><span>From</span><input name="from" size="12"></label>
			<label class="f-until"><span>Until</span><input name="until" size="12"></label>
			<button type="submit">Run</button>`;
		container.appendChild(this.el);
		this.f = this.el.elements;
		this.sug = this.el.querySelector('.suggest');
		this.f.preset.addEventListener('change', () => {
			if (this.f.preset.value) { this.f.from.value = this.f.preset.value; this.f.until.value = 'now'; this.submit(); }
		});
		this.f.type.addEventListener('change', () => this.submit());
		this.el.addEventListener('submit', (e) => { e.preventDefault(); this.submit(); });
		const sel = this.f.selector;
		sel.addEventListener('input', () => this.suggest());
		sel.addEventListener('focus', () => this.suggest());
		sel.addEventListener('blur', () => setTimeout(() => { this.sug.hidden = true; }, 150));
		sel.addEventListener('keydown', (e) => this.keys(e));
		this.loadTypes();
	}

	async loadTypes() {
		const types = await api.profileTypes().catch(() => []);
		const cur = this.value ? this.value.type : '';
		const ids = types.map((t) => t.ID);
		if (cur && !ids.includes(cur)) ids.unshift(cur);
		if (!ids.length) ids.push(api.CPU);
		this.f.type.innerHTML = ids.map((t) => `<option value="${esc(t)}">${esc(t)}</option>`).join('');
		if (cur) this.f.type.value = cur;
	}

	set(v) {
		this.value = v;
		if (v.type && ![...this.f.type.options].some((o) => o.value === v.type))
			this.f.type.insertAdjacentHTML('afterbegin', `<option value="${esc(v.type)}">${esc(v.type)}</option>`);
		this.f.type.value = v.type;
		this.f.selector.value = v.selector;
		this.f.from.value = v.from;
		this.f.until.value = v.until;
		this.f.preset.value = v.until === 'now' && PRESETS.some(([p]) => p === v.from) ? v.from : '';
	}

	submit() {
		let s = this.f.selector.value.trim() || '{}';
		if (!s.startsWith('{')) s = '{' + s + '}';
		this.opts.onSubmit({ type: this.f.type.value, selector: s, from: this.f.from.value.trim() || 'now-1h', until: this.f.until.value.trim() || 'now' });
	}

	// What the cursor is in: a label name being typed, or the value of a label.
	context() {
		const sel = this.f.selector, before = sel.value.slice(0, sel.selectionStart);
		let m = /(?:^|[{,])\s*([A-Za-z_.][\w.]*)\s*(=~|!=|!~|=)\s*"([^"]*)$/.exec(before);
		if (m) return { kind: 'value', name: m[1], part: m[3], at: before.length - m[3].length };
		m = /(?:^|[{,])\s*([A-Za-z_.][\w.]*)?$/.exec(before);
		if (m) return { kind: 'name', part: m[1] || '', at: before.length - (m[1] || '').length };
		return null;
	}

	async suggest() {
		const c = this.context();
		if (!c) { this.sug.hidden = true; return; }
		const matchers = [`{__profile_type__="${this.f.type.value}"}`];
		let items;
		try {
			items = c.kind === 'name' ? await api.labelNames(matchers) : await api.labelValues(c.name, matchers);
		} catch (_) { items = []; }
		items = items.filter((s) => s.toLowerCase().startsWith(c.part.toLowerCase())).slice(0, 50);
		this.ctx = c;
		this.sug.innerHTML = items.map((s, i) => `<li role="option" id="${this.sug.id}-${i}" data-v="${esc(s)}">${esc(s)}</li>`).join('');
		this.sug.hidden = !items.length;
		this.active = -1;
		this.sug.querySelectorAll('li').forEach((li) => li.addEventListener('mousedown', (e) => { e.preventDefault(); this.pick(li.dataset.v); }));
	}

	pick(v) {
		const sel = this.f.selector, c = this.ctx, end = sel.selectionStart;
		let text = sel.value;
		if (!text.startsWith('{')) text = '{' + text;
		const ins = c.kind === 'name' ? v + '="' : v + '"';
		const at = sel.value.startsWith('{') ? c.at : c.at + 1, endAt = sel.value.startsWith('{') ? end : end + 1;
		text = text.slice(0, at) + ins + text.slice(endAt);
		if (!text.includes('}')) text += '}';
		sel.value = text;
		sel.setSelectionRange(at + ins.length, at + ins.length);
		this.sug.hidden = true;
		if (c.kind === 'name') this.suggest();
	}

	keys(e) {
		const items = [...this.sug.querySelectorAll('li')];
		if (this.sug.hidden || !items.length) return;
		if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
			e.preventDefault();
			this.active = (this.active + (e.key === 'ArrowDown' ? 1 : items.length - 1)) % items.length;
			items.forEach((li, i) => li.classList.toggle('active', i === this.active));
			this.f.selector.setAttribute('aria-activedescendant', items[this.active].id);
		} else if (e.key === 'Enter' && this.active >= 0) {
			e.preventDefault();
			this.pick(items[this.active].dataset.v);
		} else if (e.key === 'Escape') {
			this.sug.hidden = true;
			e.stopPropagation();
		}
	}
}
