"""A file with the base name of ../modA.py and its `work` on the same line: only whole paths tell them apart."""


def work(n):
    s = 0
    for i in range(n):
        s ^= i
    return s
