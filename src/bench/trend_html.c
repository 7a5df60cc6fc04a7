/*
 * The static trend page: the trends' JSON embedded in one HTML file with its script and style, so the page
 * makes no request to any host (a differential flame graph opens from a blob: URL of the embedded SVG).
 */
#include "bench/trend.h"

#include <string.h>

#include "core/buf.h"

static const char page_head[] =
	"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
	"script-src 'unsafe-inline'; img-src data: blob:; frame-src blob:\">\n"
	"<title>kiln trend</title>\n<style>\n"
	"body{font:14px system-ui,sans-serif;margin:1em 2em;color:#222}\n"
	"h1{font-size:1.3em}h2{font-size:1.05em;margin:1.2em 0 .2em}\n"
	".bar{margin:.5em 0}.bar select{margin-right:1em}\n"
	".chart{border:1px solid #ddd;background:#fff;cursor:crosshair}\n"
	".band{fill:#9ecae1;opacity:.45}.line{fill:none;stroke:#3182bd;stroke-width:1.5}\n"
	".pt{fill:#3182bd}.cp-reg{stroke:#d62728;stroke-width:2}.cp-imp{stroke:#2ca02c;stroke-width:2}\n"
	".cp-hit{stroke:transparent;stroke-width:12;cursor:pointer}\n"
	".thr{stroke:#ff7f0e;stroke-dasharray:4 3;stroke-width:1}.axis{font-size:11px;fill:#555}\n"
	"#detail{border-top:2px solid #d62728;margin-top:1em;padding-top:.5em}\n"
	"table{border-collapse:collapse}td,th{padding:2px 8px;text-align:right}td:first-child,th:first-child"
	"{text-align:left}tr:nth-child(even){background:#f4f4f4}\n"
	"iframe{width:100%;height:520px;border:1px solid #ddd}\n.muted{color:#777}\n"
	"</style></head><body>\n<h1>Benchmark trends</h1>\n<div id=\"summary\" class=\"muted\"></div>\n"
	"<div class=\"bar\">Branch <select id=\"branch\"></select> Machine <select id=\"machine\"></select>"
	"<span class=\"muted\">drag on a chart to zoom, double-click to reset; click a change point for its "
	"profile diff</span></div>\n<div id=\"charts\"></div>\n<div id=\"detail\" hidden></div>\n"
	"<script type=\"application/json\" id=\"data\">";

static const char page_tail[] =
	"</script>\n<script>\n"
	"'use strict';\n"
	"const D=JSON.parse(document.getElementById('data').textContent);\n"
	"const NS='http://www.w3.org/2000/svg',W=900,H=220,ML=70,MR=10,MT=10,MB=28;\n"
	"const zoom={};\n"
	"function el(t,a,p){const e=document.createElementNS(NS,t);for(const k in a)e.setAttribute(k,a[k]);"
	"if(p)p.appendChild(e);return e;}\n"
	"function h(t,txt,p){const e=document.createElement(t);if(txt!==undefined)e.textContent=txt;if(p)p.appendChild(e);"
	"return e;}\n"
	"function fmt(v,u){if(v===null||!isFinite(v))return '?';if(u==='s'){const a=Math.abs(v);"
	"if(a<1e-6)return (v*1e9).toPrecision(4)+' ns';if(a<1e-3)return (v*1e6).toPrecision(4)+' µs';"
	"if(a<1)return (v*1e3).toPrecision(4)+' ms';return v.toPrecision(4)+' s';}"
	"return v.toPrecision(4)+(u?' '+u:'');}\n"
	"function clink(c){const s=c.slice(0,12);if(!D.commit_url){const x=document.createElement('code');"
	"x.textContent=s;return x;}const a=document.createElement('a');a.href=D.commit_url.split('{commit}')"
	".join(encodeURIComponent(c));a.textContent=s;a.rel='noreferrer';return a;}\n"
	"function opts(id,vals){const s=document.getElementById(id);for(const v of vals){const o=h('option',v,s);"
	"o.value=v;}return s;}\n"
	"const branches=[...new Set(D.series.map(s=>s.branch))].sort(),machines=[...new Set(D.series.map(s=>s.machine))]"
	".sort();\n"
	"const bs=opts('branch',branches),ms=opts('machine',machines);\n"
	"if(branches.includes('main'))bs.value='main';else if(branches.includes('master'))bs.value='master';\n"
	"document.getElementById('summary').textContent=D.runs.length+' runs, '+D.series.length+' series; '+"
	"D.regressions+' regressions, '+D.improvements+' improvements. Change points: '+D.method.name+' (window '+"
	"D.method.window+', alpha '+D.method.alpha+', threshold '+(D.method.threshold*100)+'%). Band: '+"
	"(D.method.confidence*100)+'% confidence interval of each run\\'s median.';\n"
	"function chart(s,idx,host){\n"
	" const n=s.run.length,z=zoom[idx]||[0,n-1],lo=z[0],hi=Math.max(z[1],lo+1);\n"
	" let ymin=Infinity,ymax=-Infinity;\n"
	" for(let i=lo;i<=Math.min(hi,n-1);i++){for(const v of [s.centre[i],s.lo[i],s.hi[i]])if(v!==null&&isFinite(v))"
	"{ymin=Math.min(ymin,v);ymax=Math.max(ymax,v);}}\n"
	" if(!isFinite(ymin)){ymin=0;ymax=1;}const pad=(ymax-ymin)*0.08||Math.abs(ymax)*0.05||1;ymin-=pad;ymax+=pad;\n"
	" const X=i=>ML+(i-lo)/(hi-lo)*(W-ML-MR),Y=v=>MT+(ymax-v)/(ymax-ymin)*(H-MT-MB);\n"
	" const svg=el('svg',{width:W,height:H,class:'chart','data-series':idx},host);\n"
	" const cl=el('clipPath',{id:'c'+idx},svg);el('rect',{x:ML,y:0,width:W-ML-MR,height:H},cl);\n"
	" const g=el('g',{'clip-path':'url(#c'+idx+')'},svg);\n"
	" let up='',dn='';for(let i=0;i<n;i++){if(s.lo[i]===null||s.hi[i]===null)continue;up+=(up?'L':'M')+X(i)+','+"
	"Y(s.hi[i]);dn='L'+X(i)+','+Y(s.lo[i])+dn;}\n"
	" if(up)el('path',{d:up+dn+'Z',class:'band'},g);\n"
	" let d='';for(let i=0;i<n;i++)d+=(i?'L':'M')+X(i)+','+Y(s.centre[i]);el('path',{d:d,class:'line'},g);\n"
	" for(let i=lo;i<=Math.min(hi,n-1);i++){const c=el('circle',{cx:X(i),cy:Y(s.centre[i]),r:2.2,class:'pt'},g);"
	"const r=D.runs[s.run[i]];el('title',{},c).textContent=r.commit.slice(0,12)+' '+fmt(s.centre[i],s.unit);}\n"
	" let prev=0;for(const c of s.changes){const lvl=c.before*(1+(s.higher_is_better?-1:1)*D.method.threshold);"
	"el('line',{x1:X(prev),x2:X(c.index),y1:Y(lvl),y2:Y(lvl),class:'thr'},g);prev=c.index;\n"
	"  const x=X(c.index-0.5),cls=c.verdict==='regression'?'cp-reg':'cp-imp';"
	"el('line',{x1:x,x2:x,y1:MT,y2:H-MB,class:cls},g);"
	"const hit=el('line',{x1:x,x2:x,y1:MT,y2:H-MB,class:'cp-hit','data-change':c.bad_commit},g);"
	"el('title',{},hit).textContent=c.verdict+' '+(c.change*100).toFixed(1)+'% at '+c.bad_commit.slice(0,12);"
	"hit.addEventListener('click',ev=>{ev.stopPropagation();detail(s,c);});}\n"
	" if(s.changes.length){const c=s.changes[s.changes.length-1];const lvl=c.after*(1+(s.higher_is_better?-1:1)*"
	"D.method.threshold);el('line',{x1:X(prev),x2:X(n-1),y1:Y(lvl),y2:Y(lvl),class:'thr'},g);}"
	"else if(n){const m=[...s.centre].sort((a,b)=>a-b)[n>>1],lvl=m*(1+(s.higher_is_better?-1:1)*D.method.threshold);"
	"el('line',{x1:X(0),x2:X(n-1),y1:Y(lvl),y2:Y(lvl),class:'thr'},g);}\n"
	" for(let k=0;k<=4;k++){const v=ymin+(ymax-ymin)*k/4;el('text',{x:ML-4,y:Y(v)+4,'text-anchor':'end',"
	"class:'axis'},svg).textContent=fmt(v,s.unit);}\n"
	" for(let k=0;k<=5;k++){const i=Math.round(lo+(hi-lo)*k/5);if(i>=n)continue;el('text',{x:X(i),y:H-8,"
	"'text-anchor':'middle',class:'axis'},svg).textContent=D.runs[s.run[i]].commit.slice(0,7);}\n"
	" let x0=null;const rect=el('rect',{y:MT,height:H-MT-MB,width:0,fill:'#ccc',opacity:.4},svg);\n"
	" const ix=e=>{const b=svg.getBoundingClientRect();return lo+(e.clientX-b.left-ML)/(W-ML-MR)*(hi-lo);};\n"
	" svg.addEventListener('mousedown',e=>{x0=e.clientX-svg.getBoundingClientRect().left;});\n"
	" svg.addEventListener('mousemove',e=>{if(x0===null)return;const x=e.clientX-svg.getBoundingClientRect().left;"
	"rect.setAttribute('x',Math.min(x,x0));rect.setAttribute('width',Math.abs(x-x0));});\n"
	" svg.addEventListener('mouseup',e=>{if(x0===null)return;const b=svg.getBoundingClientRect();"
	"const a=lo+(x0-ML)/(W-ML-MR)*(hi-lo),c=ix(e);x0=null;const l=Math.max(0,Math.floor(Math.min(a,c))),"
	"r=Math.min(n-1,Math.ceil(Math.max(a,c)));if(r-l>=2){zoom[idx]=[l,r];draw();}else rect.setAttribute('width',0);});\n"
	" svg.addEventListener('dblclick',()=>{delete zoom[idx];draw();});\n"
	"}\n"
	"function detail(s,c){const d=document.getElementById('detail');d.hidden=false;d.textContent='';\n"
	" const t=h('h2','',d);t.append(c.verdict+' of '+s.name+' ['+s.metric+'] '+(c.change>0?'+':'')+"
	"(c.change*100).toFixed(1)+'% ('+fmt(c.before,s.unit)+' -> '+fmt(c.after,s.unit)+', p='+c.p.toPrecision(2)+"
	"'): last good ',clink(c.good_commit),', first bad ',clink(c.bad_commit));\n"
	" if(c.diff_note)h('p',c.diff_note,d).className='muted';\n"
	" if(c.functions){const tb=h('table','',d);tb.id='functions';const hr=h('tr','',tb);"
	"for(const x of ['function','before %','after %','change (pp)','p (adj.)'])h('th',x,hr);\n"
	"  for(const f of c.functions){const r=h('tr','',tb);h('td',f.name,r);h('td',f.before_pct.toFixed(2),r);"
	"h('td',f.after_pct.toFixed(2),r);h('td',(f.delta_pct>0?'+':'')+f.delta_pct.toFixed(2)+(f.significant?' *':''),r);"
	"h('td',f.p_adjusted.toPrecision(2),r);}}\n"
	" if(c.graph){const u=URL.createObjectURL(new Blob([c.graph],{type:'image/svg+xml'}));const f=h('iframe','',d);"
	"f.src=u;f.title='differential flame graph';}\n"
	" d.scrollIntoView();}\n"
	"function draw(){const host=document.getElementById('charts');host.textContent='';\n"
	" D.series.forEach((s,i)=>{if(s.branch!==bs.value||s.machine!==ms.value)return;"
	"const t=h('h2',s.name+(s.metric!=='time'?' ['+s.metric+']':''),host);"
	"if(s.changes.some(c=>c.verdict==='regression'))t.style.color='#d62728';chart(s,i,host);});}\n"
	"bs.addEventListener('change',draw);ms.addEventListener('change',draw);draw();\n"
	"</script>\n</body></html>\n";

void trend_format_html(const struct hist *h, const struct trend *t, const char *commit_url, struct buf *out)
{
	struct buf json = BUF_INIT;
	const char *p, *q;

	trend_format_json(h, t, commit_url, true, &json);
	buf_add(out, page_head, sizeof(page_head) - 1);
	/* "</" would end the script element: JSON allows "<\/" inside strings, and "</" occurs only there. */
	for (p = json.buf; (q = strstr(p, "</")); p = q + 2) {
		buf_add(out, p, (size_t)(q - p));
		buf_adds(out, "<\\/");
	}
	buf_adds(out, p);
	buf_add(out, page_tail, sizeof(page_tail) - 1);
	buf_release(&json);
}
