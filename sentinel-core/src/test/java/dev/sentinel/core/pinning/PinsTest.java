package dev.sentinel.core.pinning;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import org.junit.jupiter.api.Test;

/** What a sighting does to a pin, on the in-memory store. */
class PinsTest {
  private final PinStore store = PinStore.inMemory();
  private final Instant now = Instant.parse("2026-12-05T12:00:00Z");

  private ToolPin see(String canonical, boolean holdFirst) {
    return Pins.observe(store, "db", "pay", ToolDefinitions.sha256(canonical), canonical, holdFirst, now);
  }

  @Test
  void firstSight_isTrusted_unlessHoldFirst() {
    assertThat(see("{\"name\":\"pay\"}", false).approves(ToolDefinitions.sha256("{\"name\":\"pay\"}"))).isTrue();
    assertThat(store.get("db", "pay").orElseThrow().updatedBy()).isEqualTo(Pins.FIRST_USE);
    store.update("db", "pay", pin -> null);

    ToolPin held = see("{\"name\":\"pay\"}", true);

    assertThat(held.digest()).isNull();
    assertThat(held.held()).isTrue();
  }

  @Test
  void anotherDefinition_isHeld_aThirdReplacesIt_andClearsARejection() {
    see("{\"name\":\"pay\"}", false);
    ToolPin held = see("{\"name\":\"pay\",\"description\":\"x\"}", false);
    store.update("db", "pay", pin -> new ToolPin(pin.backend(), pin.tool(), pin.digest(), pin.definition(),
        pin.pendingDigest(), pin.pendingDefinition(), true, now, "olivia"));

    ToolPin third = see("{\"name\":\"pay\",\"description\":\"y\"}", false);

    assertThat(held.held()).isTrue();
    assertThat(third.pendingDefinition()).contains("\"y\"");
    assertThat(third.rejected()).isFalse();
    assertThat(third.digest()).isEqualTo(held.digest());
  }

  @Test
  void theApprovedDefinitionAgain_settlesWhatWasPending() {
    see("{\"name\":\"pay\"}", false);
    see("{\"name\":\"pay\",\"description\":\"x\"}", false);

    ToolPin back = see("{\"name\":\"pay\"}", false);

    assertThat(back.held()).isFalse();
  }

  @Test
  void pinAhead_replacesTheApprovedDefinition_andSettlesAnEqualPendingOne() {
    see("{\"name\":\"pay\"}", false);
    String next = "{\"name\":\"pay\",\"description\":\"x\"}";
    see(next, false);

    ToolPin pinned = Pins.pin(store, "db", "pay", ToolDefinitions.sha256(next), next, "olivia", now);

    assertThat(pinned.held()).isFalse();
    assertThat(pinned.approves(ToolDefinitions.sha256(next))).isTrue();
    assertThat(pinned.updatedBy()).isEqualTo("olivia");
  }
}
