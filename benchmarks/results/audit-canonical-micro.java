import dev.sentinel.api.*;
import dev.sentinel.core.audit.*;
import java.time.*;
public class Mb {
  public static void main(String[] a) {
    var args = tools.jackson.databind.node.JsonNodeFactory.instance.objectNode().put("text", "hello-bench");
    AuditEvent e = AuditEvent.builder().id("01JABCDEFGHJKMNPQRSTVWXYZ0").time(Instant.now()).session("s-1", "sentinel-http-load/1").request(Request.toolCall("echo", "echo", args)).arguments(args, "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a").outcome(dev.sentinel.api.Outcome.ALLOWED).latency(Duration.ofNanos(1234567)).response(120, "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a").revision("r1").build();
    long sink = 0;
    for (int r = 0; r < 6; r++) {
      long t0 = System.nanoTime();
      for (int i = 0; i < 200_000; i++) sink += CanonicalJson.bytes(AuditEventJson.toJson(e)).length;
      long t1 = System.nanoTime();
      for (int i = 0; i < 200_000; i++) sink += AuditEventJson.canonicalBytes(e).length;
      long t2 = System.nanoTime();
      System.out.printf("tree %.2f µs/event, direct %.2f µs/event%n", (t1 - t0) / 2e5 / 1e3, (t2 - t1) / 2e5 / 1e3);
    }
    System.out.println(sink);
  }
}
