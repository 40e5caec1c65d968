package dev.sentinel.mcp.engine;

import dev.sentinel.api.Outcome;
import dev.sentinel.api.Refusal;
import dev.sentinel.api.Request;
import dev.sentinel.core.Call;
import dev.sentinel.core.CallResult;
import dev.sentinel.core.RefusedException;
import dev.sentinel.core.Sentinel;
import dev.sentinel.mcp.jsonrpc.ErrorCode;
import dev.sentinel.mcp.jsonrpc.JsonRpc;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * The questions of an MCP 2026-07-28 backend: the {@code inputRequests} of its {@code
 * input_required} result (multi round-trip requests), on their way to the client whose call
 * they are for.
 *
 * <p>Every question is governed as the backend's request to that client ({@code
 * elicitation/create}, {@code sampling/createMessage}, {@code roots/list}): the policy decides
 * it and the trail records it, on whichever client it reaches. A 2026-07-28 client gets the
 * questions under the backend's own keys, with a {@code requestState} of the gateway's that
 * carries the backend's state and the keys asked, signed and bound to the call ({@link
 * RequestStates#wrap}). Its retry reaches the backend with the backend's state and the answers
 * to those keys alone: an answer to a question the gateway never passed on (one the policy
 * would have refused, say) never reaches the backend. A client of an older revision is asked
 * each question as a request of its session, and the backend is retried with the answers.
 *
 * <p>Thread-safe (stateless; the states are signed).
 */
final class InputRequests {
  /** The binding prefix of a relayed state: never valid as a state of another kind. */
  static final String BINDING_PREFIX = "relay:";
  /** The most questions one result may ask. */
  static final int MAX_QUESTIONS = RoundTrip.MAX_OPEN_QUESTIONS;
  /** How long a client has to answer a relayed question and retry. */
  static final Duration STATE_LIFE = Duration.ofMinutes(10);
  /** The methods a question may be, with the client capability each needs. */
  private static final Map<String, String> CAPABILITIES = Map.of(
      "elicitation/create", "elicitation", "sampling/createMessage", "sampling", "roots/list", "roots");

  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  /** One question: the backend's key for it, its method and params. */
  record Question(String key, String method, ObjectNode params) {
    String capability() {
      return Objects.requireNonNull(CAPABILITIES.get(method), "questions() admits only the methods of CAPABILITIES");
    }
  }

  /** What a client's retry brings for the backend: the backend's state and the answers to its questions. */
  record Continuation(JsonNode backendState, ObjectNode answers) {}

  private final McpGateway gateway;
  private final Sentinel sentinel;

  InputRequests(McpGateway gateway, Sentinel sentinel) {
    this.gateway = gateway;
    this.sentinel = sentinel;
  }

  /** Whether a result is an {@code input_required} result. */
  static boolean asks(JsonNode result) {
    return result instanceof ObjectNode && "input_required".equals(result.path("resultType").asString(""));
  }

  /**
   * The questions of a backend's {@code input_required} result, checked: an object of at most
   * {@value #MAX_QUESTIONS} questions, each an elicitation, sampling or roots request with
   * object params; a string {@code requestState} of at most 32 KiB; at least one of the two.
   *
   * @throws PeerError naming what is wrong, for the client: nothing of a malformed result is passed on
   */
  static List<Question> questions(String backend, JsonNode result) {
    JsonNode requests = result.path("inputRequests");
    JsonNode state = result.get("requestState");
    String problem = null;
    List<Question> questions = new ArrayList<>();
    if (!requests.isMissingNode() && !requests.isObject()) {
      problem = "inputRequests is not an object";
    } else if (requests.size() > MAX_QUESTIONS) {
      problem = "it asks more than " + MAX_QUESTIONS + " questions at once";
    } else if (state != null && !(state.isString() && state.stringValue().length() <= RequestStates.MAX_RELAYED_BYTES)) {
      problem = "its requestState is not a string of at most " + RequestStates.MAX_RELAYED_BYTES + " characters";
    } else if (requests.isEmpty() && state == null) {
      problem = "it has neither inputRequests nor requestState";
    } else {
      for (Map.Entry<String, JsonNode> entry : requests.properties()) {
        JsonNode question = entry.getValue();
        String method = question.path("method").asString("");
        if (!CAPABILITIES.containsKey(method)) {
          problem = "its question '" + entry.getKey() + "' is not elicitation/create, sampling/createMessage or"
              + " roots/list";
          break;
        }
        JsonNode params = question.path("params");
        if (!params.isMissingNode() && !params.isObject()) {
          problem = "the params of its question '" + entry.getKey() + "' are not an object";
          break;
        }
        questions.add(new Question(entry.getKey(), method,
            params.isObject() ? (ObjectNode) params.deepCopy() : NODES.objectNode()));
      }
    }
    if (problem != null) {
      throw PeerError.of(ErrorCode.INTERNAL_ERROR,
          "backend " + backend + " answered a malformed input_required result: " + problem);
    }
    return questions;
  }

  /**
   * The answer to a 2026-07-28 client whose backend asked {@code questions}: the backend's
   * result with each question governed and the gateway's signed state in place of the backend's.
   * A question the client did not declare the capability for sets {@code work.missingCapability}
   * (the client gets {@code -32021}); a question the policy refuses refuses the call.
   */
  ObjectNode relay(ClientSession session, InFlight work, Upstream upstream, ObjectNode result, List<Question> questions,
      String binding) throws Exception {
    StatelessMeta stateless = Objects.requireNonNull(work.stateless, "relay answers stateless requests only");
    for (Question question : questions) {
      if (!stateless.supports(question.capability())) {
        work.missingCapability = question.capability();
        return JsonRpc.error(work.clientId, ErrorCode.MISSING_REQUIRED_CLIENT_CAPABILITY,
            "missing required client capability: " + question.capability());
      }
    }
    ObjectNode asked = NODES.objectNode();
    for (Question question : questions) {
      govern(session, work, upstream, question, ignored -> question.params());
      asked.put(question.key(), question.method());
    }
    ObjectNode carried = NODES.objectNode();
    JsonNode backendState = result.get("requestState");
    if (backendState != null) {
      carried.set("s", backendState);
    }
    carried.set("q", asked);
    ObjectNode relayed = result.deepCopy();
    relayed.put("requestState", gateway.requestStates().wrap(BINDING_PREFIX + binding, STATE_LIFE,
        JsonMapper.shared().writeValueAsString(carried)));
    return JsonRpc.result(work.clientId, relayed);
  }

  /**
   * Opens a 2026-07-28 client's retry: its relayed {@code state} must be the gateway's, for this
   * call ({@code binding}), in time and unused (it is redeemed now). Answers the backend's state
   * and the client's answers to the questions that were passed on; answers to anything else are
   * dropped, and an answer that is not an object is refused.
   *
   * @throws RefusedException saying why the state does not hold; nothing reaches the backend
   */
  Continuation open(JsonNode state, @Nullable JsonNode answers, @Nullable String binding) throws RefusedException {
    RequestStates.Opened opened = binding == null ? new RequestStates.Opened(RequestStates.Check.FOREIGN, null)
        : gateway.requestStates().open(state.stringValue(), BINDING_PREFIX + binding, true);
    String why;
    switch (opened.check()) {
      case REDEEMED:
        why = null;
        break;
      case EXPIRED:
        why = "the requestState sent with this request has expired; send the request without it";
        break;
      case USED:
        why = "the requestState sent with this request was used before; each is accepted once";
        break;
      case UNVERIFIABLE:
        why = "the requestState sent with this request could not be checked: the store the gateways share is"
            + " unavailable; try again later";
        break;
      default:
        why = "the requestState sent with this request was not issued by this gateway for this call (altered,"
            + " another principal's or another call's, or from before a policy change); nothing was forwarded:"
            + " send the request without it";
    }
    if (why == null) {
      JsonNode carried = JsonMapper.shared().readTree(
          Objects.requireNonNull(opened.data(), "a redeemed relayed state carries its data"));
      ObjectNode passed = NODES.objectNode();
      for (Map.Entry<String, JsonNode> asked : carried.path("q").properties()) {
        JsonNode answer = answers == null ? null : answers.get(asked.getKey());
        if (answer == null) {
          continue; // the backend asks again for what is missing
        }
        if (!answer.isObject()) {
          why = "inputResponses." + asked.getKey() + " must be an object (the client's result for "
              + asked.getValue().asString("") + "); nothing was forwarded";
          break;
        }
        passed.set(asked.getKey(), answer);
      }
      if (why == null) {
        return new Continuation(carried.get("s"), passed);
      }
    }
    throw new RefusedException(Refusal.of(Outcome.DENIED, List.of(StatelessMeta.RULE), why));
  }

  /**
   * Asks a client of an older revision the backend's questions, each as a request of its
   * session, governed; answers their results by the backend's keys.
   *
   * @throws RefusedException when the policy refuses a question (the call is refused with it)
   * @throws PeerError when the client answers a question with an error, or cannot be asked it
   */
  ObjectNode ask(ClientSession session, InFlight work, Upstream upstream, List<Question> questions) throws Exception {
    ObjectNode answers = NODES.objectNode();
    for (Question question : questions) {
      String capability = question.capability();
      if (!session.supports(capability)
          || ("elicitation".equals(capability)
              && !Objects.requireNonNull(session.revision(), "ask() serves initialized sessions")
                  .supportsElicitation())) {
        throw PeerError.of(ErrorCode.METHOD_NOT_FOUND, "backend "
            + upstream.backend.name + " asked the client " + question.method() + ", which the client does not support");
      }
      long relayId = gateway.nextId();
      JsonNode answer = govern(session, work, upstream, question,
          ignored -> session.relay(relayId, question.method(), question.params(), work).response().result());
      answers.set(question.key(), answer);
    }
    return answers;
  }

  /**
   * Decides a question a task of the Tasks extension asks (its {@code tasks/get} shows it in
   * {@code inputRequests}) before the client is shown it, as a relayed question is decided.
   *
   * @throws RefusedException when the policy refuses it
   */
  void governTaskQuestion(ClientSession session, InFlight work, Upstream upstream, Question question)
      throws Exception {
    govern(session, work, upstream, question, ignored -> question.params());
  }

  /** One question as the pipeline decides it: the backend's request to the client, with its answer as result. */
  private @Nullable JsonNode govern(ClientSession session, InFlight work, Upstream upstream, Question question,
      dev.sentinel.core.Invoker<JsonNode> invoker) throws Exception {
    Request governed = new Request(question.method(), upstream.backend.name, null, question.params());
    CallResult<JsonNode> result = sentinel.call(session.call(work, governed, question.key()), invoker);
    if (result.outcome() == Outcome.ALLOWED) {
      return result.value();
    }
    if (result.outcome().refusal()) {
      throw new RefusedException(Objects.requireNonNull(result.refusal(), "a refused outcome carries its refusal"));
    }
    Throwable failure = result.failure();
    if (failure instanceof Exception) {
      throw (Exception) failure;
    }
    throw PeerError.of(ErrorCode.INTERNAL_ERROR, "the client's answer to "
        + question.method() + " did not arrive (" + result.outcome() + ")");
  }
}
