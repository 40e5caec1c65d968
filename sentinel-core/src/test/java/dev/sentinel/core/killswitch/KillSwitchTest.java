package dev.sentinel.core.killswitch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sentinel.api.Principal;
import dev.sentinel.api.Request;
import dev.sentinel.core.internal.Glob;
import dev.sentinel.core.killswitch.KillSwitch.Block;
import dev.sentinel.core.killswitch.KillSwitch.Block.Scope;
import dev.sentinel.core.killswitch.KillSwitch.State;
import dev.sentinel.core.testing.Gen;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class KillSwitchTest {
  private static final Principal ALICE = Principal.of("alice");
  private static final Principal BOB = Principal.of("bob");
  private static final Request READ = Request.toolCall("fs", "read_file", null);
  private static final Request WRITE = Request.toolCall("fs", "write_file", null);
  private static final Request GIT_LOG = Request.toolCall("git", "log", null);

  private final KillSwitch killSwitch = KillSwitch.create();

  @Test
  void create_blocksNothing() {
    assertThat(killSwitch.check(ALICE, READ)).isNull();
    assertThat(killSwitch.check(ALICE, Request.of("ping"))).isNull();
    assertThat(killSwitch.state()).isEqualTo(State.EMPTY);
    assertThat(State.EMPTY.isEmpty()).isTrue();
  }

  @Test
  void disableAll_blocksEveryRequest_untilEnabled() {
    killSwitch.disableAll("incident 42");
    Block block = new Block(Scope.ALL, "*", "incident 42");
    assertThat(killSwitch.check(ALICE, READ)).isEqualTo(block);
    assertThat(killSwitch.check(BOB, Request.of("ping"))).isEqualTo(block);
    killSwitch.enableAll();
    assertThat(killSwitch.check(ALICE, READ)).isNull();
  }

  @Test
  void disableBackend_blocksOnlyThatBackend_untilEnabled() {
    killSwitch.disableBackend("fs", "disk full");
    assertThat(killSwitch.check(ALICE, READ)).isEqualTo(new Block(Scope.BACKEND, "fs", "disk full"));
    assertThat(killSwitch.check(ALICE, new Request(Request.RESOURCES_READ, "fs", "file:///a", null)))
        .isNotNull();
    assertThat(killSwitch.check(ALICE, GIT_LOG)).isNull();
    assertThat(killSwitch.check(ALICE, Request.of("ping"))).isNull();
    killSwitch.enableBackend("fs");
    assertThat(killSwitch.check(ALICE, READ)).isNull();
  }

  @Test
  void disableTool_matchesGlobOnToolName_untilEnabled() {
    killSwitch.disableTool("*write*", "data loss");
    assertThat(killSwitch.check(ALICE, WRITE)).isEqualTo(new Block(Scope.TOOL, "*write*", "data loss"));
    assertThat(killSwitch.check(ALICE, Request.toolCall("git", "overwrite", null))).isNotNull();
    assertThat(killSwitch.check(ALICE, READ)).isNull();
    killSwitch.enableTool("*write*");
    assertThat(killSwitch.check(ALICE, WRITE)).isNull();
  }

  @Test
  void disableTool_appliesOnlyToToolRequests() {
    killSwitch.disableTool("**", "tools off");
    assertThat(killSwitch.check(ALICE, READ)).isNotNull();
    assertThat(killSwitch.check(ALICE, new Request(Request.RESOURCES_READ, "fs", "file:///a", null)))
        .isNull();
    assertThat(killSwitch.check(ALICE, new Request(Request.PROMPTS_GET, "fs", "read_file", null)))
        .isNull();
    assertThat(killSwitch.check(ALICE, Request.of("tools/list"))).isNull();
  }

  @Test
  void enableTool_removesOnlyThatGlob() {
    killSwitch.disableTool("write_*", "a");
    killSwitch.disableTool("write_file", "b");
    killSwitch.enableTool("write_*");
    assertThat(killSwitch.check(ALICE, WRITE)).isEqualTo(new Block(Scope.TOOL, "write_file", "b"));
    killSwitch.enableTool("nothing");
    assertThat(killSwitch.check(ALICE, WRITE)).isNotNull();
  }

  @Test
  void disablePrincipal_blocksOnlyThatPrincipal_untilEnabled() {
    killSwitch.disablePrincipal("bob", "leaked key");
    assertThat(killSwitch.check(BOB, READ)).isEqualTo(new Block(Scope.PRINCIPAL, "bob", "leaked key"));
    assertThat(killSwitch.check(BOB, Request.of("ping"))).isNotNull();
    assertThat(killSwitch.check(ALICE, READ)).isNull();
    killSwitch.enablePrincipal("bob");
    assertThat(killSwitch.check(BOB, READ)).isNull();
  }

  @Test
  void check_scopesInOrder() {
    killSwitch.disablePrincipal("alice", "p");
    killSwitch.disableTool("read_*", "t");
    killSwitch.disableBackend("fs", "b");
    killSwitch.disableAll("a");
    assertThat(killSwitch.check(ALICE, READ).scope()).isEqualTo(Scope.ALL);
    killSwitch.enableAll();
    assertThat(killSwitch.check(ALICE, READ).scope()).isEqualTo(Scope.BACKEND);
    killSwitch.enableBackend("fs");
    assertThat(killSwitch.check(ALICE, READ).scope()).isEqualTo(Scope.TOOL);
    killSwitch.enableTool("read_*");
    assertThat(killSwitch.check(ALICE, READ).scope()).isEqualTo(Scope.PRINCIPAL);
    killSwitch.enablePrincipal("alice");
    assertThat(killSwitch.check(ALICE, READ)).isNull();
    assertThat(killSwitch.state()).isEqualTo(State.EMPTY);
  }

  @Test
  void disable_again_replacesTheReason() {
    killSwitch.disableBackend("fs", "first");
    killSwitch.disableBackend("fs", "second");
    assertThat(killSwitch.check(ALICE, READ).reason()).isEqualTo("second");
  }

  @Test
  void stateAndReplace_roundTrip() {
    killSwitch.disableAll("all");
    killSwitch.disableBackend("fs", "b");
    killSwitch.disableTool("rm_*", "t");
    killSwitch.disablePrincipal("bob", "p");
    State state = killSwitch.state();
    assertThat(state)
        .isEqualTo(new State("all", Map.of("fs", "b"), Map.of("rm_*", "t"), Map.of("bob", "p")));

    KillSwitch other = KillSwitch.create();
    other.replace(state);
    assertThat(other.state()).isEqualTo(state);
    assertThat(other.check(ALICE, READ)).isEqualTo(killSwitch.check(ALICE, READ));

    other.replace(State.EMPTY);
    assertThat(other.check(ALICE, READ)).isNull();
  }

  @Test
  void state_validatesAndCopies() {
    Map<String, String> backends = new HashMap<>(Map.of("fs", "b"));
    State state = new State(null, backends, Map.of(), Map.of());
    backends.put("git", "b");
    assertThat(state.backends()).containsOnlyKeys("fs");
    assertThatThrownBy(() -> state.backends().put("x", "y"))
        .isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> new State(null, Map.of(" ", "r"), Map.of(), Map.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("backend");
    Map<String, String> nullReason = new HashMap<>();
    nullReason.put("bob", null);
    assertThatThrownBy(() -> new State(null, Map.of(), Map.of(), nullReason))
        .isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> killSwitch.disableBackend("", "r"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void change_onOneThread_isSeenByCheckOnAnother() throws Exception {
    ExecutorService writer = Executors.newSingleThreadExecutor();
    ExecutorService reader = Executors.newSingleThreadExecutor();
    try {
      assertThat(CompletableFuture.supplyAsync(() -> killSwitch.check(ALICE, READ), reader).get())
          .isNull();
      CompletableFuture.runAsync(() -> killSwitch.disableBackend("fs", "x"), writer).get();
      assertThat(CompletableFuture.supplyAsync(() -> killSwitch.check(ALICE, READ), reader).get())
          .isEqualTo(new Block(Scope.BACKEND, "fs", "x"));
      CompletableFuture.runAsync(killSwitch::enableAll, writer).get();
      CompletableFuture.runAsync(() -> killSwitch.enableBackend("fs"), writer).get();
      assertThat(CompletableFuture.supplyAsync(() -> killSwitch.check(ALICE, READ), reader).get())
          .isNull();
    } finally {
      writer.shutdownNow();
      reader.shutdownNow();
      writer.awaitTermination(1, TimeUnit.MINUTES);
      reader.awaitTermination(1, TimeUnit.MINUTES);
    }
  }

  @Test
  void concurrentDisables_areAllKept() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<CompletableFuture<Void>> done = new ArrayList<>();
      for (int i = 0; i < 400; i++) {
        String id = "p" + i;
        done.add(CompletableFuture.runAsync(() -> killSwitch.disablePrincipal(id, "r"), pool));
      }
      CompletableFuture.allOf(done.toArray(new CompletableFuture<?>[0])).get();
      assertThat(killSwitch.state().principals()).hasSize(400);
    } finally {
      pool.shutdownNow();
      pool.awaitTermination(1, TimeUnit.MINUTES);
    }
  }

  /** One operation of a random run. */
  record Op(int kind, String target, String reason) {}

  private static final List<String> BACKENDS = List.of("fs", "git");
  private static final List<String> GLOBS = List.of("read", "write", "*", "re*", "?ead");
  private static final List<String> NAMES = List.of("read", "write", "remove", "x");
  private static final List<String> PRINCIPALS = List.of("alice", "bob");

  static LongStream seeds() {
    return Gen.seeds(500);
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void operations_matchASimpleModel(long seed) {
    List<Op> ops = ops(new Random(seed));
    KillSwitch actual = KillSwitch.create();
    String all = null;
    Map<String, String> backends = new HashMap<>();
    Map<String, String> tools = new TreeMap<>();
    Map<String, String> principals = new HashMap<>();
    for (Op op : ops) {
      switch (op.kind()) {
        case 0: actual.disableAll(op.reason()); all = op.reason(); break;
        case 1: actual.enableAll(); all = null; break;
        case 2: actual.disableBackend(op.target(), op.reason()); backends.put(op.target(), op.reason()); break;
        case 3: actual.enableBackend(op.target()); backends.remove(op.target()); break;
        case 4: actual.disableTool(op.target(), op.reason()); tools.put(op.target(), op.reason()); break;
        case 5: actual.enableTool(op.target()); tools.remove(op.target()); break;
        case 6: actual.disablePrincipal(op.target(), op.reason()); principals.put(op.target(), op.reason()); break;
        default: actual.enablePrincipal(op.target()); principals.remove(op.target()); break;
      }
    }
    assertThat(actual.state()).isEqualTo(new State(all, backends, tools, principals));
    for (String principal : PRINCIPALS) {
      for (String backend : BACKENDS) {
        for (String name : NAMES) {
          for (Request request :
              List.of(Request.toolCall(backend, name, null), new Request(Request.PROMPTS_GET, backend, name, null))) {
            Block expected = null;
            if (all != null) {
              expected = new Block(Scope.ALL, "*", all);
            } else if (backends.containsKey(backend)) {
              expected = new Block(Scope.BACKEND, backend, backends.get(backend));
            } else {
              if (request.method().equals(Request.TOOLS_CALL)) {
                for (Map.Entry<String, String> tool : tools.entrySet()) {
                  if (Glob.compile(tool.getKey()).matches(name)) {
                    expected = new Block(Scope.TOOL, tool.getKey(), tool.getValue());
                    break;
                  }
                }
              }
              if (expected == null && principals.containsKey(principal)) {
                expected = new Block(Scope.PRINCIPAL, principal, principals.get(principal));
              }
            }
            assertThat(actual.check(Principal.of(principal), request)).isEqualTo(expected);
          }
        }
      }
    }
  }

  private static List<Op> ops(Random random) {
    return Gen.list(random, 0, 30, () -> {
      int kind = random.nextInt(8);
      return new Op(kind, target(kind, random.nextInt(5)), Gen.pick(random, "r1", "r2", ""));
    });
  }

  private static String target(int kind, int pick) {
    if (kind == 2 || kind == 3) {
      return BACKENDS.get(pick % BACKENDS.size());
    }
    if (kind == 4 || kind == 5) {
      return GLOBS.get(pick);
    }
    return PRINCIPALS.get(pick % PRINCIPALS.size());
  }
}
