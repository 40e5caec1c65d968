package dev.sentinel.mcp.engine;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class McpRevisionTest {

  @Test
  void negotiate_answersSupportedVersionsAndLatestOtherwise() {
    assertThat(McpRevision.negotiate("2024-11-05")).isEqualTo(McpRevision.V2024_11_05);
    assertThat(McpRevision.negotiate("2026-07-28")).isEqualTo(McpRevision.latest());
    assertThat(McpRevision.negotiate(null)).isEqualTo(McpRevision.latest());
    assertThat(McpRevision.latest().version()).isEqualTo("2025-11-25");
  }

  @Test
  void features_followTheRevisions() {
    assertThat(McpRevision.V2024_11_05.hasCompletionsCapability()).isFalse();
    assertThat(McpRevision.V2025_03_26.hasCompletionsCapability()).isTrue();
    assertThat(McpRevision.V2025_03_26.supportsElicitation()).isFalse();
    assertThat(McpRevision.V2025_06_18.supportsElicitation()).isTrue();
    assertThat(McpRevision.V2025_03_26.allowsBatches()).isTrue();
    assertThat(McpRevision.V2025_06_18.allowsBatches()).isFalse();
  }

  @Test
  void naming_cursorsRoundTripAndRejectForeignOnes() {
    Naming.Cursor cursor = new Naming.Cursor(1, "abc:def");
    assertThat(Naming.decode(Naming.encode(cursor), 2)).isEqualTo(cursor);
    assertThat(Naming.decode(Naming.encode(new Naming.Cursor(1, null)), 2)).isEqualTo(new Naming.Cursor(1, null));
    assertThat(Naming.decode(Naming.encode(cursor), 1)).isNull();
    assertThat(Naming.decode("!!", 2)).isNull();
    assertThat(Naming.decode("", 2)).isNull();
  }
}
