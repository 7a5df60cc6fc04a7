#!/usr/bin/env python3
"""Checks a speedscope file against the required fields of https://www.speedscope.app/file-format-schema.json
(FileFormat.File, SampledProfile, EventedProfile, Frame) plus index and length consistency.
Usage: check_speedscope.py FILE; prints the number of profiles and samples, exits 1 with a reason on failure."""
import json
import sys

UNITS = {"none", "nanoseconds", "microseconds", "milliseconds", "seconds", "bytes"}


def fail(msg):
    print("invalid speedscope file: " + msg)
    sys.exit(1)


def number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def main(path):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    if doc.get("$schema") != "https://www.speedscope.app/file-format-schema.json":
        fail("$schema")
    frames = doc.get("shared", {}).get("frames")
    if not isinstance(frames, list):
        fail("shared.frames")
    for i, fr in enumerate(frames):
        if not isinstance(fr, dict) or not isinstance(fr.get("name"), str):
            fail("frame %d name" % i)
        if "file" in fr and not isinstance(fr["file"], str):
            fail("frame %d file" % i)
        for k in ("line", "col"):
            if k in fr and not number(fr[k]):
                fail("frame %d %s" % (i, k))
    profiles = doc.get("profiles")
    if not isinstance(profiles, list):
        fail("profiles")
    nsamples = 0
    for i, p in enumerate(profiles):
        for k in ("name", "unit", "startValue", "endValue", "type"):
            if k not in p:
                fail("profile %d lacks %s" % (i, k))
        if p["unit"] not in UNITS or not isinstance(p["name"], str):
            fail("profile %d unit/name" % i)
        if not number(p["startValue"]) or not number(p["endValue"]):
            fail("profile %d start/end" % i)
        if p["type"] == "sampled":
            s, w = p.get("samples"), p.get("weights")
            if not isinstance(s, list) or not isinstance(w, list) or len(s) != len(w):
                fail("profile %d samples/weights" % i)
            for st in s:
                if not isinstance(st, list) or any(not isinstance(x, int) or x < 0 or x >= len(frames) for x in st):
                    fail("profile %d has a bad frame index" % i)
            if any(not number(x) for x in w):
                fail("profile %d weights" % i)
            if sum(w) != p["endValue"] - p["startValue"]:
                fail("profile %d weights do not add up to endValue - startValue" % i)
            nsamples += len(s)
        elif p["type"] == "evented":
            if not isinstance(p.get("events"), list):
                fail("profile %d events" % i)
        else:
            fail("profile %d type" % i)
    if "activeProfileIndex" in doc and not (0 <= doc["activeProfileIndex"] < max(1, len(profiles))):
        fail("activeProfileIndex")
    if "exporter" in doc and not isinstance(doc["exporter"], str):
        fail("exporter")
    print("%d profiles, %d samples" % (len(profiles), nsamples))


main(sys.argv[1])
