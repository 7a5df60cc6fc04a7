// Alpha.work(int): one of the methods named `work` of kiln's frame identity test.
public class Alpha {
    static long work(int n) {
        long s = 0;
        for (int i = 0; i < n; i++) s += (long) i * i % 13;
        return s;
    }
}
