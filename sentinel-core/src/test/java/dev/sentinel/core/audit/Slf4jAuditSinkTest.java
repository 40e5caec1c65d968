package dev.sentinel.core.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class Slf4jAuditSinkTest {

  @Test
  void write_logsEachEventAndIsNotDurable() {
    Slf4jAuditSink sink = Slf4jAuditSink.create("dev.sentinel.audit.test");

    sink.write(List.of(TestEvents.event("a"), TestEvents.event("b")));

    assertThat(sink.durable()).isFalse();
    assertThat(sink.toString()).contains("dev.sentinel.audit.test");
  }

  @Test
  void create_rejectsBlankName() {
    assertThatThrownBy(() -> Slf4jAuditSink.create(" ")).hasMessageContaining("loggerName");
  }
}
