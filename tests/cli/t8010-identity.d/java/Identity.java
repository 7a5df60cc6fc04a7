// Alpha.work(int), Beta.work(int) and Beta.work(long) take asked shares of the CPU; the program measures each
// one's CPU time and prints "NAME SHARE" lines, then its pid (kiln's frame identity test).
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

public class Identity {
    static final ThreadMXBean MX = ManagementFactory.getThreadMXBean();

    static double cpu() {
        return MX.getCurrentThreadCpuTime() / 1e9;
    }

    static long run(int k, int n) {
        switch (k) {
        case 0: return Alpha.work(n);
        case 1: return Beta.work(n);
        default: return Beta.work((long) n);
        }
    }

    public static void main(String[] args) {
        String[] names = { "Alpha.work(int)", "Beta.work(int)", "Beta.work(long)" };
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 2;
        double[] shares = { 0.5, 0.3, 0.2 };
        for (int k = 0; k < 3 && k + 1 < args.length; k++)
            shares[k] = Double.parseDouble(args[k + 1]);
        double[] spent = new double[3];
        double end = cpu() + seconds;
        long t = 0;
        while (cpu() < end) {
            // Short slices: every method runs in every tenth of a second, in the asked proportion of CPU time.
            for (int k = 0; k < 3; k++) {
                double t0 = cpu();
                while (cpu() - t0 < 0.1 * shares[k])
                    t += run(k, 20000);
                spent[k] += cpu() - t0;
            }
        }
        double total = spent[0] + spent[1] + spent[2];
        for (int k = 0; k < 3; k++)
            System.out.printf("%s %.1f%n", names[k], 100 * spent[k] / total);
        System.out.println("pid " + ProcessHandle.current().pid() + " " + (t != 0));
    }
}
