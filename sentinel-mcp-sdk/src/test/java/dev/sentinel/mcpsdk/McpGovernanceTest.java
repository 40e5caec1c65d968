package dev.sentinel.mcpsdk;

import static dev.sentinel.mcpsdk.Requests.prompt;
import static dev.sentinel.mcpsdk.Requests.read;
import static dev.sentinel.mcpsdk.Requests.toolCall;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.api.AuthenticationResult;
import dev.sentinel.api.Authenticator;
import dev.sentinel.api.Credentials;
import dev.sentinel.api.Outcome;
import dev.sentinel.api.Principal;
import dev.sentinel.core.Sentinel;
import dev.sentinel.core.audit.AuditDispatcher;
import dev.sentinel.core.policy.PolicyEngine;
import dev.sentinel.core.testing.ManualClock;
import dev.sentinel.core.testing.RecordingSink;
import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.HttpClientStreamableHttpTransport;
import io.modelcontextprotocol.spec.McpError;
import io.modelcontextprotocol.spec.McpSchema;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

/**
 * The adapter against the real SDK: a governed {@link GovernedNotesServer} on Streamable HTTP,
 * called by the SDK's own client, with the example's policy and limits.
 */
class McpGovernanceTest {
  private static final Map<String, Principal> TOKENS = Map.of(
      "t-alice", Principal.of("alice", "writer"),
      "t-bob", Principal.of("bob", "reader"));
  /** The application's authenticator: a table of tokens, as an API-key store would be. */
  private static final Authenticator AUTHENTICATOR = credentials -> {
    Principal principal = credentials.type() == Credentials.Type.BEARER ? TOKENS.get(credentials.secret()) : null;
    return principal != null ? AuthenticationResult.success(principal) : AuthenticationResult.failure("unknown token");
  };
  /** The example's resolver: the bearer token of the request's Authorization header. */
  static final CallerResolver BEARER = context -> {
    Object header = context.get("authorization");
    return header instanceof String && ((String) header).startsWith("Bearer ")
        ? Caller.presenting(Credentials.bearer(((String) header).substring("Bearer ".length())))
        : null;
  };

  private final ManualClock clock = new ManualClock();
  private final RecordingSink sink = new RecordingSink();
  private final List<AutoCloseable> open = new ArrayList<>();
  private Sentinel sentinel;
  private GovernedNotesServer server;

  @AfterEach
  void stop() throws Exception {
    for (int i = open.size() - 1; i >= 0; i--) {
      open.get(i).close();
    }
  }

  private void start(CallerResolver callers) throws Exception {
    sentinel = Sentinel.builder()
        .policy(PolicyEngine.parse(policy(), "notes-policy.yaml"))
        .authenticator(AUTHENTICATOR)
        .audit(AuditDispatcher.builder().sink(sink).build())
        .clock(clock)
        .build();
    open.add(sentinel);
    server = new GovernedNotesServer(sentinel, callers);
    open.add(server);
  }

  private McpSyncClient client(String token) {
    HttpRequest.Builder request = HttpRequest.newBuilder();
    if (token != null) {
      request.header("Authorization", "Bearer " + token);
    }
    McpSyncClient client = McpClient.sync(HttpClientStreamableHttpTransport.builder(server.url())
            .endpoint("/mcp").requestBuilder(request).jsonMapper(GovernedNotesServer.JSON).build())
        .requestTimeout(Duration.ofSeconds(30))
        .build();
    open.add(client::closeGracefully);
    client.initialize();
    return client;
  }

  private static McpSchema.CallToolResult call(McpSyncClient client, String tool, Map<String, Object> arguments) {
    return client.callTool(toolCall(tool, arguments));
  }

  private static McpError refusal(Runnable call) {
    McpError error = catchThrowableOfType(McpError.class, call::run);
    assertThat(error).as("an MCP error").isNotNull();
    return error;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> data(McpError error) {
    return (Map<String, Object>) error.getJsonRpcError().data();
  }

  private List<AuditEvent> trail() {
    assertThat(sentinel.audit().flush(Duration.ofSeconds(10))).isTrue();
    return sink.events();
  }

  @Test
  void listTools_showsEachCallerOnlyWhatThePolicyLetsItUse() throws Exception {
    start(BEARER);

    assertThat(client("t-alice").listTools().tools()).extracting(McpSchema.Tool::name)
        .containsExactlyInAnyOrder("read_note", "write_note", "export_notes");
    assertThat(client("t-bob").listTools().tools()).extracting(McpSchema.Tool::name)
        .containsExactlyInAnyOrder("read_note", "export_notes");
    assertThat(client("t-mallory").listTools().tools()).isEmpty();
    assertThat(client(null).listTools().tools()).isEmpty();
  }

  @Test
  void listTools_hidesWhatTheKillSwitchDisables() throws Exception {
    start(BEARER);
    sentinel.killSwitch().disableTool("write_note", "incident 42");

    assertThat(client("t-alice").listTools().tools()).extracting(McpSchema.Tool::name)
        .doesNotContain("write_note");
    McpError error = refusal(() -> call(client("t-alice"), "write_note", Map.of("title", "a", "body", "b")));
    assertThat(error.getJsonRpcError().code()).isEqualTo(-32013);
    assertThat(server.received).isEmpty();
  }

  @Test
  void callTool_allowed_runsTheHandlerAndRecordsOneEvent() throws Exception {
    start(BEARER);

    McpSchema.CallToolResult result = call(client("t-bob"), "read_note", Map.of("title", "welcome"));

    assertThat(((McpSchema.TextContent) result.content().get(0)).text()).isEqualTo("hello");
    assertThat(trail()).singleElement().satisfies(event -> {
      assertThat(event.outcome()).isEqualTo(Outcome.ALLOWED);
      assertThat(event.principal()).isEqualTo("bob");
      assertThat(event.method()).isEqualTo("tools/call");
      assertThat(event.backend()).isEqualTo("notes");
      assertThat(event.name()).isEqualTo("read_note");
      assertThat(event.session()).isNotBlank();
      assertThat(event.rules()).containsExactly("readers-read");
    });
  }

  @Test
  void callTool_denied_isAnMcpErrorWithSentinelsCode_andTheHandlerNeverRuns() throws Exception {
    start(BEARER);

    McpError denied = refusal(() -> call(client("t-bob"), "write_note", Map.of("title", "a", "body", "b")));
    McpError deleted = refusal(() -> call(client("t-alice"), "delete_all", Map.of()));

    assertThat(denied.getJsonRpcError().code()).isEqualTo(-32012);
    assertThat(denied.getJsonRpcError().message()).isEqualTo("denied: no rule allows this request");
    assertThat(deleted.getJsonRpcError().message())
        .isEqualTo("denied by rule nobody-deletes: deleting every note cannot be undone");
    assertThat(data(deleted)).containsEntry("outcome", "DENIED")
        .containsEntry("rules", List.of("nobody-deletes"));
    assertThat(server.received).isEmpty();
    assertThat(trail()).extracting(AuditEvent::outcome).containsExactly(Outcome.DENIED, Outcome.DENIED);
  }

  @Test
  void callTool_decidesOnTheArgumentsTheHandlerReceives() throws Exception {
    start(BEARER);
    McpSyncClient alice = client("t-alice");

    McpError error = refusal(() -> call(alice, "write_note", Map.of("title", "secret-plan", "body", "x")));
    call(alice, "write_note", Map.of("title", "ideas", "body", Map.of("n", 12.5, "tags", List.of("a"))));

    assertThat(error.getJsonRpcError().code()).isEqualTo(-32012);
    assertThat(data(error)).containsEntry("rules", List.of("no-secret-titles"));
    assertThat(server.received).singleElement()
        .isEqualTo(Map.of("title", "ideas", "body", Map.of("n", 12.5, "tags", List.of("a"))));
    // the trail holds what the policy saw, which is what the handler got
    AuditEvent allowed = trail().get(1);
    assertThat(allowed.arguments())
        .isEqualTo(JsonMapper.builder().build().valueToTree(server.received.get(0)));
  }

  @Test
  void callTool_overTheLimit_isRefusedWithRetryAfter_untilTheBucketRefills() throws Exception {
    start(BEARER);
    McpSyncClient alice = client("t-alice");
    call(alice, "write_note", Map.of("title", "one", "body", "1"));
    call(alice, "write_note", Map.of("title", "two", "body", "2"));

    McpError limited = refusal(() -> call(alice, "write_note", Map.of("title", "three", "body", "3")));

    assertThat(limited.getJsonRpcError().code()).isEqualTo(-32014);
    assertThat(data(limited)).containsEntry("outcome", "LIMITED")
        .containsEntry("rules", List.of("writes-per-minute"));
    assertThat(((Number) data(limited).get("retryAfterMs")).longValue()).isPositive();
    assertThat(server.received).hasSize(2);

    clock.advance(Duration.ofMinutes(1));
    call(alice, "write_note", Map.of("title", "three", "body", "3"));
    assertThat(server.received).hasSize(3);
    assertThat(trail()).extracting(AuditEvent::outcome)
        .containsExactly(Outcome.ALLOWED, Outcome.ALLOWED, Outcome.LIMITED, Outcome.ALLOWED);
  }

  @Test
  void callTool_withoutAKnownCaller_isUnauthenticated_andRecorded() throws Exception {
    start(BEARER);

    McpError anonymous = refusal(() -> call(client(null), "read_note", Map.of("title", "welcome")));
    McpError unknown = refusal(() -> call(client("t-mallory"), "read_note", Map.of("title", "welcome")));

    assertThat(anonymous.getJsonRpcError().code()).isEqualTo(-32011);
    assertThat(unknown.getJsonRpcError().code()).isEqualTo(-32011);
    assertThat(server.received).isEmpty();
    assertThat(trail()).extracting(AuditEvent::outcome)
        .containsExactly(Outcome.UNAUTHENTICATED, Outcome.UNAUTHENTICATED);
  }

  @Test
  void callTool_whenTheResolverThrows_failsClosed() throws Exception {
    start(context -> {
      throw new IllegalStateException("directory down");
    });

    McpError error = refusal(() -> call(client("t-alice"), "read_note", Map.of("title", "welcome")));

    assertThat(error.getJsonRpcError().code()).isEqualTo(-32011);
    assertThat(error.getJsonRpcError().message()).doesNotContain("directory");
    assertThat(client("t-alice").listTools().tools()).isEmpty();
    assertThat(server.received).isEmpty();
  }

  @Test
  void callTool_asAPrincipalTheApplicationVouchesFor() throws Exception {
    start(context -> Caller.of(Principal.of("carol", "reader")));

    call(client(null), "read_note", Map.of("title", "welcome"));

    assertThat(trail()).singleElement().satisfies(event -> {
      assertThat(event.principal()).isEqualTo("carol");
      assertThat(event.outcome()).isEqualTo(Outcome.ALLOWED);
    });
  }

  @Test
  void callTool_whoseHandlerThrows_isRecordedFailed_andAnsweredAsTheSdkDoes() throws Exception {
    start(BEARER);

    McpError error = refusal(() -> call(client("t-bob"), "export_notes", Map.of()));

    // the SDK's own answer to a handler that throws
    assertThat(error.getJsonRpcError().code()).isEqualTo(McpSchema.ErrorCodes.INTERNAL_ERROR);
    assertThat(trail()).singleElement().satisfies(event -> {
      assertThat(event.outcome()).isEqualTo(Outcome.FAILED);
      assertThat(event.errorClass()).isEqualTo(IllegalStateException.class.getName());
    });
  }

  @Test
  void readResource_isDecidedOnTheUriRead() throws Exception {
    start(BEARER);
    McpSyncClient bob = client("t-bob");

    McpSchema.ReadResourceResult index = bob.readResource(read("notes://index"));
    McpError draft = refusal(() -> bob.readResource(read("notes://drafts/plan")));
    McpError anonymous = refusal(() -> client(null).readResource(read("notes://index")));

    assertThat(((McpSchema.TextResourceContents) index.contents().get(0)).text()).contains("welcome");
    assertThat(draft.getJsonRpcError().code()).isEqualTo(-32012);
    assertThat(data(draft)).containsEntry("rules", List.of("drafts-are-private"));
    assertThat(anonymous.getJsonRpcError().code()).isEqualTo(-32011);
    assertThat(trail()).extracting(AuditEvent::method, AuditEvent::name, AuditEvent::outcome).containsExactly(
        org.assertj.core.groups.Tuple.tuple("resources/read", "notes://index", Outcome.ALLOWED),
        org.assertj.core.groups.Tuple.tuple("resources/read", "notes://drafts/plan", Outcome.DENIED),
        org.assertj.core.groups.Tuple.tuple("resources/read", "notes://index", Outcome.UNAUTHENTICATED));
  }

  @Test
  void getPrompt_isDecidedOnItsArguments() throws Exception {
    start(BEARER);
    McpSyncClient bob = client("t-bob");

    McpSchema.GetPromptResult ok = bob.getPrompt(prompt("summarize", Map.of("topic", "q3")));
    McpError refused = refusal(() -> bob.getPrompt(prompt("summarize", Map.of("topic", "salaries"))));

    assertThat(((McpSchema.TextContent) ok.messages().get(0).content()).text()).isEqualTo("Summarize q3");
    assertThat(refused.getJsonRpcError().code()).isEqualTo(-32012);
    assertThat(data(refused)).containsEntry("rules", List.of("no-salary-summaries"));
    assertThat(trail()).extracting(AuditEvent::outcome).containsExactly(Outcome.ALLOWED, Outcome.DENIED);
  }

  static String policy() throws IOException {
    try (InputStream in = McpGovernanceTest.class.getResourceAsStream("/notes-policy.yaml")) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
