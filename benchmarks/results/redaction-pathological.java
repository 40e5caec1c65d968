import dev.sentinel.core.audit.Redactor;
public class RedactionPathological {
  public static void main(String[] a) {
    Redactor r = Redactor.defaults();
    int n = Integer.parseInt(a[0]);
    String[][] cases = {
      {"a*n", "a".repeat(n)},
      {"sk_live_*", "sk_live_".repeat(n/8)},
      {"a*n+://x", "a".repeat(n) + "://x"},
      {"eyJ*", "eyJ".repeat(n/3)},
      {"aws_secret*", "aws_secret".repeat(n/10)},
      {"bearer *", "bearer ".repeat(n/7)},
      {"-----BEGIN *", "-----BEGIN ".repeat(n/11)},
      {"github_pat_*", "github_pat_".repeat(n/11)},
    };
    for (String[] c : cases) {
      long t = System.nanoTime();
      String out = r.redactText(c[1]);
      System.out.printf("%-14s n=%d %8.1f ms%n", c[0], n, (System.nanoTime()-t)/1e6);
    }
  }
}
