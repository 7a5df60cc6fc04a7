#!/usr/bin/env python3
"""The <title> texts flamegraph.pl would draw for folded input, one per line, sorted.

flamegraph.pl is not packaged for Debian, so this computes its titles from its documented rules (stdlib only):
lines are sorted as strings; each is /^(.*)\\s+?(\\d+(?:\\.\\d*)?)$/, an optional second count making it
differential (width by the second, delta on the leaf); stacks split at ';' as perl's split does (trailing
empty fields dropped); a frame spans the running sum of counts from its first to its last line; frames
narrower than --minwidth pixels are pruned; the count shown is sprintf("%.0f") of the span times --factor,
with thousands separators; the percentage is 100 * that shown count / (total * factor); annotations
_[kwij] are stripped from the name.

usage: flamegraph_pl_titles.py [--reverse] [--negate] [--factor F] [--minwidth PX] [--width PX]
       [--countname NAME] FILE...
"""
import re
import sys

LINE = re.compile(rb'^(.*)\s+?(\d+(?:\.\d*)?)$', re.S)


def perl_split(stack):
    fields = stack.split(b';') if stack else []
    while fields and fields[-1] == b'':
        fields.pop()
    return fields


def main(argv):
    opts = {'reverse': False, 'negate': False, 'factor': 1.0, 'minwidth': 0.1, 'width': 1200,
            'countname': 'samples'}
    files = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ('--reverse', '--negate'):
            opts[a[2:]] = True
        elif a in ('--factor', '--minwidth', '--width', '--countname'):
            i += 1
            opts[a[2:]] = argv[i] if a == '--countname' else float(argv[i])
        else:
            files.append(a)
        i += 1

    data = []
    for path in files:
        with open(path, 'rb') as f:
            for line in f.read().split(b'\n'):
                if opts['reverse']:
                    m = LINE.match(line)
                    if m:
                        stack, s1 = m.group(1), m.group(2)
                        m2 = LINE.match(stack)
                        if m2:
                            stack, s0 = m2.group(1), m2.group(2)
                            line = b';'.join(reversed(perl_split(stack))) + b' ' + s0 + b' ' + s1
                        else:
                            line = b';'.join(reversed(perl_split(stack))) + b' ' + s1
                data.append(line)
    data = [d for d in data if d != b'']  # blank lines are ignored lines

    nodes = {}   # (func, depth, etime) -> [stime, delta]
    tmp = {}     # (func, depth) -> [stime, delta]
    last = []
    time = 0.0

    def flow(last, this, v, d):
        same = 0
        while same < len(last) and same < len(this) and last[same] == this[same]:
            same += 1
        for k in range(len(last) - 1, same - 1, -1):
            key = (last[k], k)
            st = tmp.pop(key)
            # the end time is part of a hash key: perl stringifies it with 15 significant digits
            nodes[(last[k], k, float('%.15g' % v))] = st
        for k in range(same, len(this)):
            key = (this[k], k)
            delta = None
            if d is not None:
                delta = d if k == len(this) - 1 else 0
            tmp[key] = [v, delta]
        return this

    for line in sorted(data):
        m = LINE.match(line)
        if not m:
            continue
        stack, samples = m.group(1), m.group(2)
        samples2 = None
        m2 = LINE.match(stack)
        if m2:
            samples2 = samples
            stack, samples = m2.group(1), m2.group(2)
        delta = None
        if samples2 is not None:
            delta = float(samples2) - float(samples)
        last = flow(last, [b''] + perl_split(stack), time, delta)
        time += float(samples2 if samples2 is not None else samples)
    flow(last, [], time, None)

    timemax = time
    wpt = (opts['width'] - 20) / timemax
    minwidth_time = opts['minwidth'] / wpt
    out = []
    for (func, depth, etime), (stime, delta) in nodes.items():
        if func == b'' and depth == 0:
            etime = timemax
        if etime - stime < minwidth_time:
            continue
        samples = '%.0f' % ((etime - stime) * opts['factor'])
        txt = '{:,}'.format(int(samples))
        if func == b'' and depth == 0:
            out.append('all (%s %s, 100%%)' % (txt, opts['countname']))
            continue
        pct = '%.2f' % (100 * int(samples) / (timemax * opts['factor']))
        name = re.sub(rb'_\[[kwij]\]$', b'', func).decode('utf-8', 'replace')
        if delta is None:
            out.append('%s (%s %s, %s%%)' % (name, txt, opts['countname'], pct))
        else:
            d = -delta if opts['negate'] else delta
            dp = '%.2f' % (100 * d / (timemax * opts['factor']))
            if d == 0:
                dp = '0.00'  # perl's integer -0 is 0
            out.append('%s (%s %s, %s%%; %s%s%%)' % (name, txt, opts['countname'], pct,
                                                   '+' if d > 0 else '', dp))
    for t in sorted(out):
        print(t)


if __name__ == '__main__':
    main(sys.argv[1:])
