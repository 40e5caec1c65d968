package dev.sentinel.mcp.transport;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class StderrPumpTest {

  @Test
  void run_passesLinesOn_cutsLongOnesAt4KiB_andKeepsABoundedTail() {
    InputStream in = new SequenceInputStream(
        new ByteArrayInputStream("first\r\n".getBytes(StandardCharsets.UTF_8)),
        new SequenceInputStream(
            new Garbage(10L * 1024 * 1024, (byte) 'x'),
            new ByteArrayInputStream("\nlast \u00e9\u00e9".getBytes(StandardCharsets.UTF_8))));
    List<String> lines = new ArrayList<>();
    StderrPump pump = new StderrPump(in, 8, lines::add);

    pump.run();

    assertThat(lines).hasSize(3);
    assertThat(lines.get(0)).isEqualTo("first");
    assertThat(lines.get(1)).hasSize(4096 + " [line truncated]".length()).endsWith(" [line truncated]");
    assertThat(lines.get(2)).isEqualTo("last \u00e9\u00e9");
    assertThat(pump.tail()).isEqualTo("ast \u00e9\u00e9");
  }

  @Test
  void tail_neverStartsInsideACharacter() {
    StderrPump pump = new StderrPump(
        new ByteArrayInputStream("\u00e9\u00e9\u00e9".getBytes(StandardCharsets.UTF_8)), 5, l -> { });

    pump.run();

    assertThat(pump.tail()).isEqualTo("\u00e9\u00e9");
  }
}
