"""Three functions named `work` in modA.py, modB.py and pkg/modA.py take asked shares of the CPU; the script
measures each one's CPU time and prints "FILE SHARE" lines (for kiln's frame identity test)."""
import sys
import time

import modA
import modB
import pkg.modA

seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
shares = [float(x) for x in sys.argv[2:5]] if len(sys.argv) > 4 else [0.5, 0.3, 0.2]
funcs = [("modA.py", modA.work), ("modB.py", modB.work), ("pkg/modA.py", pkg.modA.work)]
spent = [0.0] * len(funcs)
end = time.process_time() + seconds
while time.process_time() < end:
    # Short slices: every function runs in every tenth of a second, in the asked proportion of CPU time.
    for k, (_, fn) in enumerate(funcs):
        t0 = time.process_time()
        while time.process_time() - t0 < 0.1 * shares[k]:
            fn(2000)
        spent[k] += time.process_time() - t0
total = sum(spent)
for k, (name, _) in enumerate(funcs):
    print("%s %.1f" % (name, 100.0 * spent[k] / total))
