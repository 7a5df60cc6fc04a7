// Beta.work(int) and its overload Beta.work(long): methods named `work` of kiln's frame identity test.
public class Beta {
    static long work(int n) {
        long s = 0;
        for (int i = 0; i < n; i++) s += i % 7;
        return s;
    }

    static long work(long n) {
        long s = 1;
        for (long i = 0; i < n; i++) s = (s * 7 + i) % 1000003;
        return s;
    }
}
