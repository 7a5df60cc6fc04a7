# Python waits for kiln profile --mode offcpu|wall (tests/cli/t7000-offcpu.sh): sleeper() sleeps in time.sleep,
# pipe_reader() blocks in os.read on a pipe whose writer, a forked child, spins on the CPU (so that it adds no
# waits of its own) and writes after a delay. Prints the time each function took, in nanoseconds, on stdout.
# Usage: py_waits.py [SLEEP_S [READ_S]]
import os
import sys
import time


def sleeper(s):
    time.sleep(s)


def pipe_reader(fd):
    return os.read(fd, 1)


def spin(s):
    end = time.monotonic() + s
    while time.monotonic() < end:
        pass


def main():
    sleep_s = float(sys.argv[1]) if len(sys.argv) > 1 else 0.3
    read_s = float(sys.argv[2]) if len(sys.argv) > 2 else 0.2
    t0 = time.monotonic_ns()
    sleeper(sleep_s)
    t1 = time.monotonic_ns()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        spin(read_s)
        os.write(w, b"x")
        os._exit(0)
    os.close(w)
    t2 = time.monotonic_ns()
    pipe_reader(r)
    t3 = time.monotonic_ns()
    os.waitpid(pid, 0)
    print("sleeper", t1 - t0)
    print("pipe_reader", t3 - t2)


main()
