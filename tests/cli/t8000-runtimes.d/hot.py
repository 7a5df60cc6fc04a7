"""Two functions taking known shares of the CPU: it measures and prints them (for kiln's runtime tests)."""
import sys
import time


def work_a(n):
    s = 0
    for i in range(n):
        s += i * i
    return s


def work_b(n):
    s = 0
    for i in range(n):
        s += i % 7
    return s


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
    share_a = float(sys.argv[2]) if len(sys.argv) > 2 else 0.7
    spent = {"work_a": 0.0, "work_b": 0.0}
    end = time.process_time() + seconds
    while time.process_time() < end:
        # Short slices: both functions run in every tenth of a second, in the asked proportion of CPU time.
        for name, fn, share in (("work_a", work_a, share_a), ("work_b", work_b, 1 - share_a)):
            t0 = time.process_time()
            while time.process_time() - t0 < 0.05 * share:
                fn(2000)
            spent[name] += time.process_time() - t0
    total = sum(spent.values())
    for name in ("work_a", "work_b"):
        print("%s %.1f" % (name, 100.0 * spent[name] / total))


if __name__ == "__main__":
    main()
