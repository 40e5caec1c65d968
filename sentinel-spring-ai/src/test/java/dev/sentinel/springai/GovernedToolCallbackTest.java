package dev.sentinel.springai;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.api.Outcome;
import dev.sentinel.api.Principal;
import dev.sentinel.core.Sentinel;
import dev.sentinel.core.audit.AuditDispatcher;
import dev.sentinel.core.policy.PolicyEngine;
import dev.sentinel.core.testing.ManualClock;
import dev.sentinel.core.testing.RecordingSink;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.ai.chat.messages.AssistantMessage;
import org.springframework.ai.chat.messages.ToolResponseMessage;
import org.springframework.ai.chat.model.ChatResponse;
import org.springframework.ai.chat.model.Generation;
import org.springframework.ai.chat.model.ToolContext;
import org.springframework.ai.chat.prompt.Prompt;
import org.springframework.ai.model.tool.DefaultToolCallingManager;
import org.springframework.ai.model.tool.ToolCallingChatOptions;
import org.springframework.ai.model.tool.ToolExecutionResult;
import org.springframework.ai.tool.ToolCallback;
import org.springframework.ai.tool.ToolCallbackProvider;
import org.springframework.ai.tool.method.MethodToolCallbackProvider;

/** The decorator on Spring AI's own tool callbacks (from {@code @Tool} methods). */
class GovernedToolCallbackTest {
  private static final Principal ALICE = Principal.of("alice", "writer");
  private static final Principal BOB = Principal.of("bob", "reader");

  private final ManualClock clock = new ManualClock();
  private final RecordingSink sink = new RecordingSink();
  private final NotesTools notes = new NotesTools();
  private Sentinel sentinel;
  private Map<String, ToolCallback> tools;

  @BeforeEach
  void start() throws IOException {
    sentinel = Sentinel.builder()
        .policy(PolicyEngine.parse(policy(), "assistant-policy.yaml"))
        .audit(AuditDispatcher.builder().sink(sink).build())
        .clock(clock)
        .build();
    ToolCallbackProvider governed = GovernedToolCallbackProvider.of(
        MethodToolCallbackProvider.builder().toolObjects(notes).build(),
        sentinel, "assistant", PrincipalResolver.fromToolContext());
    tools = new java.util.HashMap<>();
    Arrays.stream(governed.getToolCallbacks()).forEach(tool -> tools.put(tool.getToolDefinition().name(), tool));
  }

  @AfterEach
  void stop() {
    sentinel.close();
  }

  private static ToolContext as(Principal principal) {
    return new ToolContext(Map.of(PrincipalResolver.PRINCIPAL_KEY, principal));
  }

  private List<AuditEvent> trail() {
    assertThat(sentinel.audit().flush(Duration.ofSeconds(10))).isTrue();
    return sink.events();
  }

  @Test
  void call_allowed_runsTheToolOnTheDecidedInput_andRecordsOneEvent() {
    String result = tools.get("read_note").call("{\"title\":\"welcome\"}", as(BOB));

    assertThat(result).isEqualTo("\"hello\"");
    assertThat(notes.calls).containsExactly("read_note welcome");
    assertThat(trail()).singleElement().satisfies(event -> {
      assertThat(event.outcome()).isEqualTo(Outcome.ALLOWED);
      assertThat(event.principal()).isEqualTo("bob");
      assertThat(event.backend()).isEqualTo("assistant");
      assertThat(event.name()).isEqualTo("read_note");
      assertThat(event.arguments().path("title").asString()).isEqualTo("welcome");
    });
  }

  @Test
  void call_denied_throwsToolRefused_andTheToolNeverRuns() {
    ToolRefusedException notAllowed = catchThrowableOfType(ToolRefusedException.class,
        () -> tools.get("write_note").call("{\"title\":\"a\",\"body\":\"b\"}", as(BOB)));
    ToolRefusedException secret = catchThrowableOfType(ToolRefusedException.class,
        () -> tools.get("write_note").call("{\"title\":\"secret-plan\",\"body\":\"b\"}", as(ALICE)));

    assertThat(notAllowed.code()).isEqualTo(-32012);
    assertThat(secret.getMessage()).isEqualTo("denied by rule no-secret-titles: secret notes are kept elsewhere");
    assertThat(secret.refusal().rules()).containsExactly("no-secret-titles");
    assertThat(notes.calls).isEmpty();
    assertThat(trail()).extracting(AuditEvent::outcome).containsExactly(Outcome.DENIED, Outcome.DENIED);
  }

  @Test
  void call_whoseInputRepeatsAKey_isRefused_notGuessedAt() {
    // a policy reading the last "title" and a tool reading the first would disagree
    ToolRefusedException refused = catchThrowableOfType(ToolRefusedException.class,
        () -> tools.get("write_note").call("{\"title\":\"secret-plan\",\"title\":\"ok\",\"body\":\"b\"}", as(ALICE)));

    assertThat(refused.refusal().rules()).containsExactly("arguments");
    assertThat(notes.calls).isEmpty();
    assertThat(trail()).singleElement().satisfies(event -> {
      assertThat(event.outcome()).isEqualTo(Outcome.DENIED);
      assertThat(event.principal()).isEqualTo("alice");
    });
  }

  @Test
  void call_withoutAPrincipal_isUnauthenticated() {
    ToolCallback read = tools.get("read_note");

    ToolRefusedException noContext = catchThrowableOfType(ToolRefusedException.class,
        () -> read.call("{\"title\":\"welcome\"}"));
    // a name is not a principal: only a Principal object the application put there counts
    ToolRefusedException aString = catchThrowableOfType(ToolRefusedException.class,
        () -> read.call("{\"title\":\"welcome\"}", new ToolContext(Map.of(PrincipalResolver.PRINCIPAL_KEY, "alice"))));

    assertThat(noContext.code()).isEqualTo(-32011);
    assertThat(aString.code()).isEqualTo(-32011);
    assertThat(notes.calls).isEmpty();
    assertThat(trail()).extracting(AuditEvent::outcome)
        .containsExactly(Outcome.UNAUTHENTICATED, Outcome.UNAUTHENTICATED);
  }

  @Test
  void call_overThePolicysLimit_isRefusedWithRetryAfter() {
    ToolCallback write = tools.get("write_note");
    write.call("{\"title\":\"one\",\"body\":\"1\"}", as(ALICE));
    write.call("{\"title\":\"two\",\"body\":\"2\"}", as(ALICE));

    ToolRefusedException limited = catchThrowableOfType(ToolRefusedException.class,
        () -> write.call("{\"title\":\"three\",\"body\":\"3\"}", as(ALICE)));

    assertThat(limited.code()).isEqualTo(-32014);
    assertThat(limited.refusal().retryAfter()).isPositive();
    clock.advance(Duration.ofMinutes(1));
    write.call("{\"title\":\"three\",\"body\":\"3\"}", as(ALICE));
    assertThat(notes.calls).hasSize(3);
  }

  @Test
  void call_whoseToolThrows_isRecordedFailed_andRethrownAsSpringAiDoes() {
    assertThatThrownBy(() -> tools.get("export_notes").call("{}", as(BOB)))
        .isNotInstanceOf(ToolRefusedException.class)
        .hasRootCauseInstanceOf(IllegalStateException.class);

    assertThat(trail()).singleElement().satisfies(event -> assertThat(event.outcome()).isEqualTo(Outcome.FAILED));
  }

  @Test
  void toolCallingManager_tellsTheModelTheRefusal_withThePrincipalFromThePromptsToolContext() {
    DefaultToolCallingManager manager = DefaultToolCallingManager.builder().build();
    Prompt prompt = new Prompt("write two notes", ToolCallingChatOptions.builder()
        .toolCallbacks(List.copyOf(tools.values()))
        .toolContext(PrincipalResolver.PRINCIPAL_KEY, ALICE)
        .build());
    ChatResponse modelAsks = new ChatResponse(List.of(new Generation(AssistantMessage.builder()
        .content("")
        .toolCalls(List.of(
            new AssistantMessage.ToolCall("1", "function", "write_note", "{\"title\":\"ideas\",\"body\":\"x\"}"),
            new AssistantMessage.ToolCall("2", "function", "write_note", "{\"title\":\"secret-plan\",\"body\":\"y\"}")))
        .build())));

    ToolExecutionResult result = manager.executeToolCalls(prompt, modelAsks);

    ToolResponseMessage answers = (ToolResponseMessage) result.conversationHistory()
        .get(result.conversationHistory().size() - 1);
    assertThat(answers.getResponses()).extracting(ToolResponseMessage.ToolResponse::responseData).containsExactly(
        "\"saved\"", "denied by rule no-secret-titles: secret notes are kept elsewhere");
    assertThat(notes.calls).containsExactly("write_note ideas");
    assertThat(trail()).extracting(AuditEvent::principal, AuditEvent::outcome).containsExactly(
        org.assertj.core.groups.Tuple.tuple("alice", Outcome.ALLOWED),
        org.assertj.core.groups.Tuple.tuple("alice", Outcome.DENIED));
  }

  static String policy() throws IOException {
    try (InputStream in = GovernedToolCallbackTest.class.getResourceAsStream("/assistant-policy.yaml")) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
