"""One of three functions named `work` (kiln's frame identity test)."""


def work(n):
    s = 0
    for i in range(n):
        s += i * i
    return s
