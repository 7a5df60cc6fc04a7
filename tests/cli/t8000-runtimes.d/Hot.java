// A class with a hot method for kiln's runtime tests.
public class Hot {
    static double hot(int n) {
        double s = 0;
        for (int i = 1; i < n; i++) s += Math.sqrt(i) / i;
        return s;
    }

    public static void main(String[] args) {
        long end = System.currentTimeMillis() + (long) (1000 * Double.parseDouble(args.length > 0 ? args[0] : "1.5"));
        double t = 0;
        while (System.currentTimeMillis() < end) t += hot(100000);
        System.out.println(ProcessHandle.current().pid() + " " + (t > 0));
    }
}
