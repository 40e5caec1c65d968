package dev.sentinel.mcp.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The task table's bounds, per principal and on the gateway, and what it forgets. */
class TasksTest {
  private final AtomicLong now = new AtomicLong(1_000_000_000L);

  private Tasks tasks(int perPrincipal, int max) {
    return new Tasks(perPrincipal, max, now::get);
  }

  private static Tasks.Task create(Tasks tasks, String owner, String backendId, Long ttlMs) {
    assertThat(tasks.reserve(owner)).as("room for %s", owner).isNull();
    return tasks.bind(owner, null, backendId, "slow", ttlMs);
  }

  @Test
  void aPrincipalsReservationsAndLiveTasks_shareItsBound_andAReleaseGivesTheSlotBack() {
    Tasks tasks = tasks(2, 100);
    create(tasks, "alice", "a1", null);
    assertThat(tasks.reserve("alice")).isNull();

    assertThat(tasks.reserve("alice")).isEqualTo(Tasks.Full.PRINCIPAL);
    assertThat(tasks.reserve("bob")).as("the bound is per principal").isNull();

    tasks.release("alice");
    assertThat(tasks.reserve("alice")).isNull();
  }

  @Test
  void endedTasks_freeTheirSlot_andAPrincipalKeepsAsManyEndedOnesAsItsBound_theOldestDroppedFirst() {
    Tasks tasks = tasks(2, 100);
    Tasks.Task first = create(tasks, "alice", "a1", null);
    Tasks.Task second = create(tasks, "alice", "a2", null);
    tasks.status(first.id(), "completed");
    tasks.status(second.id(), "failed");
    Tasks.Task third = create(tasks, "alice", "a3", null);
    tasks.status(third.id(), "cancelled");

    assertThat(tasks.find(first.id(), "alice")).as("the oldest ended task is dropped").isNull();
    assertThat(tasks.find(second.id(), "alice")).isEqualTo(second);
    assertThat(tasks.find(third.id(), "alice")).isEqualTo(third);
    assertThat(tasks.size()).isEqualTo(2);
  }

  @Test
  void aFullGateway_dropsTheOldestEndedTaskOfAnyPrincipal_andWithNoneEnded_refuses() {
    Tasks tasks = tasks(2, 3);
    Tasks.Task alices = create(tasks, "alice", "a1", null);
    create(tasks, "bob", "b1", null);
    create(tasks, "carol", "c1", null);

    assertThat(tasks.reserve("dave")).isEqualTo(Tasks.Full.GATEWAY);

    tasks.status(alices.id(), "completed");
    assertThat(tasks.reserve("dave")).as("alice's ended task makes room").isNull();
    assertThat(tasks.find(alices.id(), "alice")).isNull();
    assertThat(tasks.reserve("erin")).as("reservations count toward the bound").isEqualTo(Tasks.Full.GATEWAY);
  }

  @Test
  void expiredTasks_areForgotten_andMakeRoom_whenTheGatewayIsFull() {
    Tasks tasks = tasks(1, 2);
    Tasks.Task alices = create(tasks, "alice", "a1", 1_000L);
    create(tasks, "bob", "b1", null);
    assertThat(tasks.reserve("carol")).isEqualTo(Tasks.Full.GATEWAY);

    now.addAndGet(Duration.ofMillis(1_001).toNanos());

    assertThat(tasks.reserve("carol")).isNull();
    assertThat(tasks.find(alices.id(), "alice")).isNull();
    tasks.release("carol");
    assertThat(tasks.reserve("alice")).as("alice's expired task no longer holds her one slot").isNull();
  }

  @Test
  void aPrincipalThatHoldsNothing_leavesNoTrace() {
    Tasks tasks = tasks(4, 100);
    Tasks.Task task = create(tasks, "alice", "a1", null);
    tasks.reserve("bob");
    tasks.release("bob");
    tasks.forget(task.id());

    assertThat(tasks.principals()).isZero();
    assertThat(tasks.size()).isZero();
  }

  @Test
  void aTaskIsBoundOnlyToAReservation_andTheBoundsMustFit() {
    Tasks tasks = tasks(1, 1);

    assertThatThrownBy(() -> tasks.bind("alice", null, "a1", "slow", null)).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> tasks(2, 1)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxTasks must be at least maxTasksPerPrincipal (2)");
  }

  @Test
  void aTaskIsFoundOnlyByItsOwnPrincipal() {
    Tasks tasks = tasks(1, 10);
    Tasks.Task task = create(tasks, "alice", "a1", null);

    assertThat(tasks.find(task.id(), "bob")).isNull();
    assertThat(tasks.find(task.id(), null)).isNull();
    assertThat(tasks.find(task.id(), "alice")).isEqualTo(task);
  }
}
