#!/usr/bin/env python3
"""Reference totals for kiln's JSON profile readers, computed from the files on their own (no kiln code):
folded stacks of bare function names with one value column, for comparison with `kiln convert --to folded`.

  ref.py trace FILE samples|time       Chrome trace events (V8 Profile/ProfileChunk/CpuProfile, Hermes samples,
                                       B/E/X durations as speedscope's importer matches them)
  ref.py cpuprofile FILE samples|cpu   .cpuprofile, current or old "head" layout
  ref.py heapprofile FILE space|objects
  ref.py firefox FILE samples|time     Gecko profile (or DevTools' wrapper of one); every thread and sub-process
  ref.py strip < FOLDED                kiln's folded output with the " (file:line)" kiln adds to JS frames cut
"""
import json
import re
import sys
from collections import defaultdict

out = defaultdict(int)


def emit(stack, value):
    if stack and value:
        out[';'.join(stack)] += value


def v8_name(cf):
    return cf.get('functionName') or '(anonymous)'


def v8_profile(nodes, samples, deltas, start, end, column, lenient):
    """One V8 profile: ticks sorted by time; a tick lasts until the next, the last until end."""
    by_id = {n['id']: n for n in nodes}
    parent = {}
    for n in nodes:
        for c in n.get('children', []):
            parent[c] = n['id']
        if n.get('parent') is not None and n['parent'] in by_id:
            parent[n['id']] = n['parent']

    def stack(i):
        s = []
        while i is not None:
            cf = by_id[i]['callFrame']
            if cf.get('functionName') != '(root)':
                s.append(v8_name(cf))
            i = parent.get(i)
        return s[::-1]

    if samples is None:
        for n in nodes:
            emit(stack(n['id']), n.get('hitCount', 0))
        return
    t, ticks = start or 0, []
    for k, (s, d) in enumerate(zip(samples, deltas or [0] * len(samples))):
        t += d
        ticks.append((t, k, s))
    if deltas is not None:
        ticks.sort()
    for k, (t, _, s) in enumerate(ticks):
        if s not in by_id:
            assert lenient
            continue
        if column == 'samples':
            emit(stack(s), 1)
        elif k + 1 < len(ticks):
            emit(stack(s), max(0, ticks[k + 1][0] - t))
        elif end is not None:
            emit(stack(s), max(0, end - t))


def load_trace(path):
    text = open(path).read()
    try:
        return json.loads(text)
    except ValueError:
        return json.loads(text.rstrip().rstrip(',') + ']')


def trace_profiles(events, column):
    profiles, order = {}, []
    for e in sorted(events, key=lambda e: float(e.get('ts', 0))):  # stable: ties keep file order
        name, data = e.get('name'), (e.get('args') or {}).get('data')
        key = (e.get('pid'), e.get('id') or e.get('tid'))
        if name not in ('Profile', 'ProfileChunk', 'CpuProfile'):
            continue
        if name == 'ProfileChunk' and data is None:
            continue
        if key not in profiles:
            profiles[key] = {'nodes': [], 'samples': [], 'timeDeltas': [], 'startTime': None, 'endTime': None}
            order.append(key)
        p = profiles[key]
        if name == 'CpuProfile':
            p.update(data['cpuProfile'])
            continue
        cp = data.get('cpuProfile', {})
        p['nodes'] += cp.get('nodes', [])
        p['samples'] += cp.get('samples', [])
        p['timeDeltas'] += data.get('timeDeltas', [])
        for k in ('startTime', 'endTime'):
            if k in data:
                p[k] = data[k]
    for key in order:
        p = profiles[key]
        if p['samples']:
            v8_profile(p['nodes'], p['samples'], p['timeDeltas'], p['startTime'], p['endTime'], column, True)
    return bool(order)


def hermes_name(name):
    m = re.match(r'^(.+?)\((.*):(\d+):(\d+)\)$', name)
    return m.group(1) if m else name


def trace_hermes(doc, column):
    frames = doc['stackFrames']
    by_thread = defaultdict(list)
    for i, s in enumerate(doc['samples']):
        by_thread[(int(s['pid']), int(s['tid']))].append((float(s['ts']), i, s))
    for key in sorted(by_thread):
        ticks = sorted(by_thread[key])
        for k, (ts, _, s) in enumerate(ticks):
            stack, f = [], str(s['sf'])
            while f is not None:
                stack.append(hermes_name(frames[f]['name']))
                f = frames[f].get('parent')
                f = None if f is None else str(f)
            if column == 'samples':
                emit(stack[::-1], int(float(s.get('weight', 1))))
            elif k + 1 < len(ticks):
                emit(stack[::-1], round((ticks[k + 1][0] - ts) * 1000))


def trace_durations(events):
    """speedscope's trace-event.ts: B and X begins, E and X ends, in two time-sorted queues."""
    threads = defaultdict(list)
    for i, e in enumerate(events):
        if e.get('ph') in ('B', 'E', 'X'):
            threads[(int(e.get('pid', 0)), int(e.get('tid', 0)))].append(e)
    name = lambda e: e.get('name') or '(unnamed)'
    key = lambda e: name(e) + (' ' + json.dumps(e['args'], separators=(',', ':')) if 'args' in e else '')
    ns = lambda x: round(float(x) * 1000)
    for tk in sorted(threads):
        evs = threads[tk]
        xs = [e for e in evs if e['ph'] == 'X']
        dur = lambda e: ns(e.get('dur', e.get('tdur', 0)))
        xs.sort(key=lambda e: (ns(e['ts']), -dur(e)))
        bq = [(ns(e['ts']), e) for e in evs if e['ph'] == 'B'] + [(ns(e['ts']), e) for e in xs]
        eq = [(ns(e['ts']), e) for e in evs if e['ph'] == 'E'] + [(ns(e['ts']) + dur(e), e) for e in xs]
        bq.sort(key=lambda p: p[0])
        eq.sort(key=lambda p: p[0])
        stack, last = [], 0
        while bq or eq:
            take_b = not eq or (bq and (bq[0][0] < eq[0][0] or
                                         (bq[0][0] == eq[0][0] and key(bq[0][1]) == key(eq[0][1]))))
            t = bq[0][0] if take_b else eq[0][0]
            if stack:
                emit([name(e) for e in stack], t - last)
            last = t
            if take_b:
                stack.append(bq.pop(0)[1])
                continue
            if stack:
                same = [j for j in range(1, len(eq)) if eq[j][0] == eq[0][0]]
                m = [j for j in same if key(eq[j][1]) == key(stack[-1])] or \
                    [j for j in same if name(eq[j][1]) == name(stack[-1])]
                if m:
                    eq[0], eq[m[0]] = eq[m[0]], eq[0]
            e = eq.pop(0)[1]
            if stack and name(e) == name(stack[-1]):
                stack.pop()


def firefox(prof, column):
    """Each sample lasts until its thread's next one, the last one meta.interval (ms); frames by location."""
    interval = prof['meta'].get('interval', 1)
    for th in prof['threads']:
        th = json.loads(th) if isinstance(th, str) else th
        col = lambda t, c: t['schema'][c]
        strings, stacks, frames = th['stringTable'], th['stackTable'], th['frameTable']
        def stack(i):
            s = []
            while i is not None:
                row = stacks['data'][i]
                loc = strings[frames['data'][row[col(stacks, 'frame')]][col(frames, 'location')]]
                m = re.match(r'^(.*?) \((.*)\)$', loc)
                s.append(m.group(1) if m and ':' in m.group(2) else loc)
                i = row[col(stacks, 'prefix')] if len(row) > col(stacks, 'prefix') else None
            return s[::-1]
        smp = sorted(((r[col(th['samples'], 'time')], k, r[col(th['samples'], 'stack')])
                      for k, r in enumerate(th['samples']['data'])))
        for k, (t, _, s) in enumerate(smp):
            if s is None:
                continue
            if column == 'samples':
                emit(stack(s), 1)
            else:
                emit(stack(s), round(((smp[k + 1][0] - t) if k + 1 < len(smp) else interval) * 1e6))
    for sub in prof.get('processes', []):
        firefox(json.loads(sub) if isinstance(sub, str) else sub, column)


def main():
    if sys.argv[1] == 'strip':
        for line in sys.stdin:
            stack, value = line.rstrip('\n').rsplit(' ', 1)
            emit([re.sub(r' \([^()]*:\d+\)$', '', f) for f in stack.split(';')], int(value))
        for stack in sorted(out):
            print(stack, out[stack])
        return
    kind, path, column = sys.argv[1:4]
    if kind == 'trace':
        doc = load_trace(path)
        events = doc if isinstance(doc, list) else doc['traceEvents']
        col = 'samples' if column == 'samples' else 'cpu'
        if not trace_profiles(events, col) or not out:
            if isinstance(doc, dict) and doc.get('samples') and 'stackFrames' in doc:
                trace_hermes(doc, column)
            else:
                trace_durations(events)
    elif kind == 'cpuprofile':
        doc = json.load(open(path))
        if 'head' in doc:
            nodes = []

            def walk(n):
                nodes.append({'id': n['id'], 'callFrame': {'functionName': n['functionName']},
                              'hitCount': n.get('hitCount', 0), 'children': [c['id'] for c in n['children']]})
                for c in n['children']:
                    walk(c)
            walk(doc['head'])
            start, stamps = round(doc['startTime'] * 1e6), doc.get('timestamps')
            deltas = [b - a for a, b in zip([start] + stamps, stamps)] if stamps else None
            v8_profile(nodes, doc.get('samples'), deltas, start, round(doc['endTime'] * 1e6), column, False)
        else:
            v8_profile(doc['nodes'], doc.get('samples'), doc.get('timeDeltas'), doc.get('startTime'),
                       doc.get('endTime'), column, False)
    elif kind == 'firefox':
        doc = json.load(open(path))
        firefox(doc.get('profile', doc), column)
    elif kind == 'heapprofile':
        doc = json.load(open(path))
        counts = defaultdict(int)
        for s in doc.get('samples', []):
            counts[s['nodeId']] += 1

        def walk(n, stack):
            if n['callFrame'].get('functionName') != '(root)' or stack:
                stack = stack + [v8_name(n['callFrame'])]
            emit(stack, n.get('selfSize', 0) if column == 'space' else counts[n['id']])
            for c in n['children']:
                walk(c, stack)
        walk(doc['head'], [])
    for stack in sorted(out):
        print(stack, out[stack])


main()
