"""The Python program the docs profile as script.py: a word count and a prime sieve, about a second of CPU."""


def words(n):
    text = " ".join("w%d" % (i * 7919 % 1000) for i in range(n))
    counts = {}
    for w in text.split():
        counts[w] = counts.get(w, 0) + 1
    return counts


def primes(limit):
    sieve = bytearray([1]) * (limit + 1)
    sieve[0:2] = b"\0\0"
    for i in range(2, int(limit ** 0.5) + 1):
        if sieve[i]:
            for j in range(i * i, limit + 1, i):
                sieve[j] = 0
    return sum(sieve)


def main():
    total = 0
    for _ in range(4):
        total += len(words(200000))
        total += primes(400000)
    print(total)


if __name__ == "__main__":
    main()
