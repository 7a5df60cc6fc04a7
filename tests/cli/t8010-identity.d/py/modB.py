def work(n):
    s = 0
    for i in range(n):
        s += i % 7
    return s
