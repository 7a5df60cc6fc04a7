/* Text, Markdown and JSON forms of an analysis. */
#include "report.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../core/buf.h"
#include "../core/json.h"
#include "../core/util.h"
#include "../profile/profile.h"
#include "analysis.h"

#define C_BOLD "\033[1m"
#define C_RED "\033[1;31m"
#define C_YELLOW "\033[33m"
#define C_CYAN "\033[36m"
#define C_DIM "\033[2m"
#define C_OFF "\033[0m"

#define HOT_PATH_MAX_LINES 60

double report_round_pct(double pct)
{
	return round(pct * 1e4) / 1e4;
}

struct out {
	struct buf *b;
	bool color, md;
};

static const char *col(const struct out *o, const char *c)
{
	return o->color ? c : "";
}

static const char *sev_color(const struct out *o, enum severity s)
{
	if (!o->color)
		return "";
	return s == SEV_CRITICAL ? C_RED : s == SEV_HIGH ? C_YELLOW : s == SEV_MEDIUM ? C_CYAN : "";
}

/* Markdown table cells: a pipe or a line break would end the cell or the table. */
static void add_md(struct buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			buf_adds(b, "\\|");
		else if (*s == '\n' || *s == '\r')
			buf_addch(b, ' ');
		else if (*s == '`')
			buf_addch(b, '\'');
		else
			buf_addch(b, *s);
	}
}

static void location(struct buf *b, const struct analysis *a, size_t fn)
{
	const struct hotspot *h = &a->fns.v[fn];
	const char *mod = analysis_fn_module(a, fn);

	if (h->file && h->line)
		buf_addf(b, "%s:%u", profile_str(a->p, h->file), h->line);
	else if (h->file)
		buf_adds(b, profile_str(a->p, h->file));
	else if (*mod)
		buf_addf(b, "[%s]", mod);
}

static void value_header(char *out, size_t n, const struct analysis *a)
{
	const char *type = profile_str(a->p, a->p->columns[a->column].type);
	size_t i;

	for (i = 0; type[i] && i + 1 < n; i++)
		out[i] = (char)toupper((unsigned char)type[i]);
	out[i] = 0;
	if (!i)
		snprintf(out, n, "VALUE");
}

static void text_hotspots(const struct out *o, const struct analysis *a)
{
	struct buf loc = BUF_INIT;
	char vh[32], v1[32], v2[32];

	value_header(vh, sizeof(vh), a);
	if (o->md) {
		buf_addf(o->b, "\n### Hotspots (self share >= %g%%)\n\n", a->threshold);
		if (!a->nhot) {
			buf_addf(o->b, "No function has %g%% or more of the total in its own code.\n", a->threshold);
			return;
		}
		buf_addf(o->b, "| Severity | Self %% | Total %% | %s |%s Function | Location |\n", vh,
			 a->fn_count ? " Samples |" : "");
		buf_addf(o->b, "|---|---:|---:|---:|%s---|---|\n", a->fn_count ? "---:|" : "");
	} else {
		buf_addf(o->b, "\n%sHotspots (self share >= %g%%):%s\n", col(o, C_BOLD), a->threshold, col(o, C_OFF));
		if (!a->nhot) {
			buf_addf(o->b, "  none: no function has %g%% or more of the total in its own code "
				 "(see the inclusive table and recommendations)\n", a->threshold);
			return;
		}
		buf_addf(o->b, "  %-8s %7s %7s %12s %s %s\n", "SEVERITY", "SELF%", "TOTAL%", vh,
			 a->fn_count ? "     SAMPLES " : "", "FUNCTION");
	}
	for (size_t i = 0; i < a->nhot; i++) {
		const struct hotspot *h = &a->fns.v[i];
		enum severity s = severity_of(h->self_pct, a->threshold);

		buf_reset(&loc);
		location(&loc, a, i);
		analysis_fmt_value(a, a->weight > 1 ? (int64_t)llround((double)h->self / a->weight) : h->self, v1);
		if (a->fn_count)
			fmt_count(v2, (uint64_t)a->fn_count[i]);
		if (o->md) {
			buf_addf(o->b, "| %s | %.2f | %.2f | %s |", severity_name(s), h->self_pct, h->total_pct, v1);
			if (a->fn_count)
				buf_addf(o->b, " %s |", v2);
			buf_adds(o->b, " `");
			add_md(o->b, profile_str(a->p, h->name));
			buf_adds(o->b, "` | ");
			add_md(o->b, loc.buf);
			buf_adds(o->b, " |\n");
		} else {
			buf_addf(o->b, "  %s%-8s%s %6.2f%% %6.2f%% %12s ", sev_color(o, s), severity_name(s), col(o, C_OFF),
				 h->self_pct, h->total_pct, v1);
			if (a->fn_count)
				buf_addf(o->b, "%12s ", v2);
			buf_addf(o->b, "%s%s%s", col(o, C_BOLD), profile_str(a->p, h->name), col(o, C_OFF));
			if (loc.len)
				buf_addf(o->b, "  %s%s%s", col(o, C_DIM), loc.buf, col(o, C_OFF));
			buf_addch(o->b, '\n');
		}
	}
	buf_release(&loc);
}

static void text_inclusive(const struct out *o, const struct analysis *a)
{
	struct buf loc = BUF_INIT;
	char vh[32], v1[32];

	if (!a->ninclusive)
		return;
	value_header(vh, sizeof(vh), a);
	if (o->md) {
		buf_addf(o->b, "\n### Inclusive (total share >= %g%%)\n\n| Total %% | Self %% | %s | Function | "
			 "Location |\n|---:|---:|---:|---|---|\n", a->threshold, vh);
	} else {
		buf_addf(o->b, "\n%sInclusive (total share >= %g%%, callees included):%s\n", col(o, C_BOLD), a->threshold,
			 col(o, C_OFF));
		buf_addf(o->b, "  %7s %7s %12s %s\n", "TOTAL%", "SELF%", vh, "FUNCTION");
	}
	for (size_t k = 0; k < a->ninclusive; k++) {
		size_t i = a->by_total[k];
		const struct hotspot *h = &a->fns.v[i];

		buf_reset(&loc);
		location(&loc, a, i);
		analysis_fmt_value(a, a->weight > 1 ? (int64_t)llround((double)h->total / a->weight) : h->total, v1);
		if (o->md) {
			buf_addf(o->b, "| %.2f | %.2f | %s | `", h->total_pct, h->self_pct, v1);
			add_md(o->b, profile_str(a->p, h->name));
			buf_adds(o->b, "` | ");
			add_md(o->b, loc.buf);
			buf_adds(o->b, " |\n");
		} else {
			buf_addf(o->b, "  %6.2f%% %6.2f%% %12s %s", h->total_pct, h->self_pct, v1,
				 profile_str(a->p, h->name));
			if (loc.len)
				buf_addf(o->b, "  %s%s%s", col(o, C_DIM), loc.buf, col(o, C_OFF));
			buf_addch(o->b, '\n');
		}
	}
	buf_release(&loc);
}

static void text_share_list(const struct out *o, const struct analysis *a, const char *title,
			    const struct share_list *l, bool lines)
{
	if (!l->nr)
		return;
	buf_addf(o->b, o->md ? "- %s: " : "    %s:\n", title);
	for (size_t i = 0; i < l->nr; i++) {
		const char *name = profile_str(a->p, l->v[i].name);

		if (o->md) {
			buf_addf(o->b, "%s`", i ? ", " : "");
			add_md(o->b, name);
			if (lines)
				buf_addf(o->b, ":%u", l->v[i].line);
			buf_addf(o->b, "` %.2f%%", l->v[i].pct);
		} else {
			buf_addf(o->b, "      %6.2f%%  %s", l->v[i].pct, name);
			if (lines)
				buf_addf(o->b, ":%u", l->v[i].line);
			buf_addch(o->b, '\n');
		}
	}
	if (o->md)
		buf_addch(o->b, '\n');
}

static void text_details(const struct out *o, const struct analysis *a)
{
	if (!a->detailed || !a->nhot)
		return;
	buf_addf(o->b, o->md ? "\n### Hotspot details\n" : "\n%sHotspot details:%s\n", col(o, C_BOLD), col(o, C_OFF));
	for (size_t i = 0; i < a->nhot; i++) {
		const struct hotspot_detail *d = &a->details[i];
		const struct hotspot *h = &a->fns.v[d->fn];

		if (o->md) {
			buf_adds(o->b, "\n**`");
			add_md(o->b, profile_str(a->p, h->name));
			buf_addf(o->b, "`** (self %.2f%%, total %.2f%%)\n\n", h->self_pct, h->total_pct);
		} else {
			buf_addf(o->b, "  %s%s%s  self %.2f%%, total %.2f%%\n", col(o, C_BOLD), profile_str(a->p, h->name),
				 col(o, C_OFF), h->self_pct, h->total_pct);
		}
		text_share_list(o, a, "called from (samples where each caller calls it)", &d->callers, false);
		text_share_list(o, a, "calls (samples where it calls each callee)", &d->callees, false);
		text_share_list(o, a, "hottest source lines (self)", &d->lines, true);
		if (!d->lines.nr && !o->md)
			buf_adds(o->b, "    (no source lines in this profile)\n");
	}
}

static void text_hot_path(const struct out *o, const struct analysis *a)
{
	if (!a->hot_path_nr)
		return;
	if (o->md)
		buf_adds(o->b, "\n### Hot path (heaviest call path)\n\n");
	else
		buf_addf(o->b, "\n%sHot path (heaviest call path, share of the total):%s\n", col(o, C_BOLD),
			 col(o, C_OFF));
	for (size_t i = 0; i < a->hot_path_nr; i++) {
		const struct path_step *s = &a->hot_path[i];
		size_t indent = i < 24 ? i : 24;

		if (i == HOT_PATH_MAX_LINES) {
			buf_addf(o->b, "  ... %zu more frames\n", a->hot_path_nr - i);
			break;
		}
		if (o->md) {
			buf_addf(o->b, "%zu. %.2f%% `", i + 1, s->total_pct);
			add_md(o->b, analysis_fn_name(a, s->fn));
			buf_adds(o->b, "`");
		} else {
			buf_addf(o->b, "  %6.2f%%  %*s%s", s->total_pct, (int)indent, "", analysis_fn_name(a, s->fn));
		}
		/* Recursion is folded into one step (calltree.h). */
		if (s->depth > 1)
			buf_addf(o->b, " (recursive, depth up to %u)", s->depth);
		if (s->self_pct >= 0.05)
			buf_addf(o->b, "%s%s(self %.2f%%)%s", o->md ? " " : "  ", col(o, C_DIM), s->self_pct, col(o, C_OFF));
		buf_addch(o->b, '\n');
	}
}

static void text_recommendations(const struct out *o, const struct analysis *a)
{
	if (o->md)
		buf_adds(o->b, "\n### Recommendations\n\n");
	else
		buf_addf(o->b, "\n%sRecommendations:%s\n", col(o, C_BOLD), col(o, C_OFF));
	if (!a->rules_apply) {
		buf_adds(o->b, o->md ? "The rule catalogue reasons about time; it does not apply to memory values.\n"
				     : "  none: the rule catalogue reasons about time; it does not apply to memory values\n");
		return;
	}
	if (!a->recs_nr) {
		buf_adds(o->b, o->md ? "No rule of the catalogue found evidence in this profile.\n"
				     : "  none: no rule of the catalogue found evidence in this profile\n");
		return;
	}
	for (size_t i = 0; i < a->recs_nr; i++) {
		const struct recommendation *r = &a->recs[i];

		if (o->md) {
			buf_addf(o->b, "%zu. **%s** %s (`%s`): ", i + 1, severity_name(r->severity), r->title, r->rule);
			add_md(o->b, r->message);
			buf_addch(o->b, '\n');
		} else {
			buf_addf(o->b, "  %zu. %s[%s]%s %s%s%s (%s, %.1f%%)\n     %s\n", i + 1, sev_color(o, r->severity),
				 severity_name(r->severity), col(o, C_OFF), col(o, C_BOLD), r->title, col(o, C_OFF),
				 r->rule, r->evidence.pct, r->message);
		}
	}
}

void analysis_format_text(const struct analysis *a, struct buf *out, bool color, bool markdown)
{
	struct out o = { out, color && !markdown, markdown };
	const struct value_type *vt = &a->p->columns[a->column];
	char tot[32], cnt[32], stacks[32];

	analysis_fmt_value(a, a->grand_total, tot);
	fmt_count(stacks, a->unique_stacks);
	buf_addf(out, "%s%s%s %s %s (%s)", markdown ? "**" : col(&o, C_BOLD), "Total:", markdown ? "**" : col(&o, C_OFF),
		 tot, profile_str(a->p, vt->type), profile_str(a->p, vt->unit));
	if (a->weight > 1) {
		char w[32];

		buf_addf(out, " = %s samples weighted by %s each",
			 fmt_count(cnt, (uint64_t)llround((double)a->grand_total / a->weight)),
			 fmt_count(w, (uint64_t)llround(a->weight)));
	}
	if (a->count_column >= 0)
		buf_addf(out, " in %s samples", fmt_count(cnt, (uint64_t)a->grand_count));
	buf_addf(out, ", %s unique stacks", stacks);
	buf_addf(out, ", %zu functions, max depth %zu\n", a->fns.nr, a->max_depth);
	if (a->idle_total) {
		char idle[32];

		analysis_fmt_value(a, a->idle_total, idle);
		buf_addf(out, "%sidle: %.2f%% of CPU samples (%s, left out of hotspots, hot path and recommendations; the "
			 "total above and every share are of the non-idle samples)\n", markdown ? "\n" : "", a->idle_pct,
			 idle);
	}
	if (!a->grand_total) {
		buf_adds(out, a->idle_total ? "\nEvery sample is idle.\n" : "\nThe profile has no samples.\n");
		return;
	}
	text_hotspots(&o, a);
	text_inclusive(&o, a);
	text_hot_path(&o, a);
	text_details(&o, a);
	text_recommendations(&o, a);
}

/* ---- JSON ---------------------------------------------------------------------------------------------- */

static void json_fn(struct jw *j, const struct analysis *a, size_t fn)
{
	const struct hotspot *h = &a->fns.v[fn];

	jw_kv_str(j, "function", profile_str(a->p, h->name));
	jw_kv_str(j, "module", h->module ? profile_str(a->p, h->module) : "");
	jw_kv_str(j, "file", h->file ? profile_str(a->p, h->file) : NULL); /* NULL: null */
	if (h->line)
		jw_kv_u64(j, "line", h->line);
	else
		jw_kv_null(j, "line");
	jw_kv_i64(j, "self", h->self);
	jw_kv_double(j, "self_pct", report_round_pct(h->self_pct));
	jw_kv_i64(j, "total", h->total);
	jw_kv_double(j, "total_pct", report_round_pct(h->total_pct));
	if (a->fn_count || a->weight > 1) {
		jw_kv_i64(j, "samples", a->fn_count ? a->fn_count[fn] : (int64_t)llround((double)h->self / a->weight));
	}
}

static void json_shares(struct jw *j, const struct analysis *a, const char *key, const struct share_list *l,
			bool lines)
{
	jw_key(j, key);
	jw_array_begin(j);
	for (size_t i = 0; i < l->nr; i++) {
		jw_object_begin(j);
		jw_kv_str(j, lines ? "file" : "function", profile_str(a->p, l->v[i].name));
		if (lines) {
			jw_kv_u64(j, "line", l->v[i].line);
		} else {
			jw_kv_str(j, "module", l->v[i].module ? profile_str(a->p, l->v[i].module) : "");
		}
		jw_kv_i64(j, "value", l->v[i].value);
		jw_kv_double(j, "pct", report_round_pct(l->v[i].pct));
		jw_object_end(j);
	}
	jw_array_end(j);
}

void analysis_format_json(const struct analysis *a, struct jw *j)
{
	const struct value_type *vt = &a->p->columns[a->column];

	jw_kv_i64(j, "total", a->grand_total);
	jw_kv_str(j, "unit", profile_str(a->p, vt->unit));
	jw_kv_str(j, "value_type", profile_str(a->p, vt->type));
	if (a->count_column >= 0) {
		jw_kv_i64(j, "samples", a->grand_count);
	}
	if (a->weight > 1) {
		jw_kv_double(j, "sample_weight", a->weight);
	}
	jw_key(j, "idle");
	jw_object_begin(j);
	jw_kv_i64(j, "value", a->idle_total);
	jw_kv_double(j, "pct", report_round_pct(a->idle_pct));
	jw_object_end(j);
	jw_kv_bool(j, "saturated", a->saturated);
	jw_kv_double(j, "threshold_pct", a->threshold);
	jw_kv_u64(j, "unique_stacks", a->unique_stacks);
	jw_kv_u64(j, "functions", a->fns.nr);
	jw_kv_u64(j, "max_depth", a->max_depth);

	jw_key(j, "hotspots");
	jw_array_begin(j);
	for (size_t i = 0; i < a->nhot; i++) {
		jw_object_begin(j);
		json_fn(j, a, i);
		jw_kv_str(j, "severity", severity_name(severity_of(a->fns.v[i].self_pct, a->threshold)));
		if (a->detailed) {
			json_shares(j, a, "callers", &a->details[i].callers, false);
			json_shares(j, a, "callees", &a->details[i].callees, false);
			json_shares(j, a, "lines", &a->details[i].lines, true);
		}
		jw_object_end(j);
	}
	jw_array_end(j);

	jw_key(j, "inclusive");
	jw_array_begin(j);
	for (size_t k = 0; k < a->ninclusive; k++) {
		jw_object_begin(j);
		json_fn(j, a, a->by_total[k]);
		jw_object_end(j);
	}
	jw_array_end(j);

	jw_key(j, "hot_path");
	jw_array_begin(j);
	for (size_t i = 0; i < a->hot_path_nr; i++) {
		const struct path_step *s = &a->hot_path[i];

		jw_object_begin(j);
		jw_kv_str(j, "function", analysis_fn_name(a, s->fn));
		jw_kv_str(j, "module", a->fns.v[s->fn].module ? profile_str(a->p, a->fns.v[s->fn].module) : "");
		jw_kv_i64(j, "total", s->total);
		jw_kv_double(j, "total_pct", report_round_pct(s->total_pct));
		jw_kv_double(j, "self_pct", report_round_pct(s->self_pct));
		jw_kv_u64(j, "recursion_depth", s->depth);
		jw_object_end(j);
	}
	jw_array_end(j);

	jw_key(j, "recommendations");
	jw_array_begin(j);
	for (size_t i = 0; i < a->recs_nr; i++) {
		const struct recommendation *r = &a->recs[i];

		jw_object_begin(j);
		jw_kv_str(j, "rule", r->rule);
		jw_kv_str(j, "title", r->title);
		jw_kv_str(j, "severity", severity_name(r->severity));
		jw_kv_str(j, "message", r->message);
		jw_key(j, "evidence");
		jw_object_begin(j);
		jw_kv_double(j, "pct", report_round_pct(r->evidence.pct));
		jw_kv_i64(j, "value", r->evidence.value);
		json_shares(j, a, "functions", &r->evidence.functions, false);
		json_shares(j, a, "callers", &r->evidence.callers, false);
		json_shares(j, a, "inside", &r->evidence.inside, false);
		if (r->evidence.detail) {
			jw_kv_str(j, "detail", r->evidence.detail);
		}
		jw_object_end(j);
		jw_object_end(j);
	}
	jw_array_end(j);
}
