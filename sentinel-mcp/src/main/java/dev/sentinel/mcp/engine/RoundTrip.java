package dev.sentinel.mcp.engine;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * One backend call of a stateless (MCP 2026-07-28) client during which the backend, an older
 * server, asks the client something: {@code elicitation/create}, {@code sampling/createMessage}
 * or {@code roots/list}. A 2026-07-28 client takes no requests from a server; it takes them as a
 * multi round-trip request. So the gateway answers the client's request with an {@code
 * input_required} result that carries the backend's questions and a {@code requestState} it
 * signed, keeps the backend call running, and when the client sends the request again with its
 * answers and the state, gives the answers to the backend and waits on the same call: the retry
 * never reaches the backend as a new call.
 *
 * <p>Each question is governed as the backend's requests to a client are today (the pipeline
 * decides it, its answer is its result), under the credentials and session of the client's
 * latest attempt. A question has a key ({@code elicitation_1}, ...) unique within the call; an
 * answer missing from a retry is asked again.
 *
 * <p>Between attempts the call is <em>parked</em>: it holds one of its principal's parked-call
 * slots, and its state names it by a fresh nonce ({@link RequestStates}), redeemed once. It ends
 * when an attempt gets its final answer, when the backend call's deadline passes while it is
 * parked (the backend call is then cancelled), or when the gateway closes. Thread-safe.
 */
final class RoundTrip {
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  /** What the binding of a round trip's state starts with: no other token of the key holds for it. */
  static final String BINDING_PREFIX = "mrtr:";

  /** The most questions of one call waiting for answers at once; more are refused to the backend. */
  static final int MAX_OPEN_QUESTIONS = 16;

  /** A backend's question, as the client is asked it. */
  static final class Question {
    final String key;
    final String method;
    final JsonNode params;
    /** The client's answer (the request's result), failed when the call ends unanswered. */
    final CompletableFuture<JsonNode> answer = new CompletableFuture<>();
    /** Whether an {@code input_required} result carried it and no retry has answered it since. */
    boolean sent;

    Question(String key, String method, JsonNode params) {
      this.key = key;
      this.method = method;
      this.params = params;
    }
  }

  final Upstream upstream;
  /** The state's binding: {@link #BINDING_PREFIX} and the call's binding. */
  final String binding;
  /** The gateway's progress token on the backend call, or {@code null}. */
  final @Nullable String progressToken;
  /** When the backend call times out, on the gateway's clock: a parked call ends then. */
  final long deadlineNanos;

  private final List<Question> questions = new ArrayList<>();
  private CompletableFuture<Void> news = new CompletableFuture<>();
  private int asked;
  private volatile Upstream.@Nullable Outgoing outgoing;
  /** The attempt waiting on the call, or the latest one while it is parked. */
  private ClientSession session;
  private InFlight work;
  private boolean attached = true;
  private boolean ended;
  /** The nonce of the state that continues the call while it is parked, else {@code null}. */
  private @Nullable String nonce;
  /** The in-flight slot the call holds while parked, else {@code null}. */
  private @Nullable String quotaKey;

  RoundTrip(Upstream upstream, String binding, @Nullable String progressToken, long deadlineNanos,
      ClientSession session, InFlight work) {
    this.upstream = upstream;
    this.binding = BINDING_PREFIX + binding;
    this.progressToken = progressToken;
    this.deadlineNanos = deadlineNanos;
    this.session = session;
    this.work = work;
  }

  /** The backend call, once sent. */
  void sent(Upstream.Outgoing call) {
    this.outgoing = call;
  }

  Upstream.@Nullable Outgoing outgoing() {
    return outgoing;
  }

  /** The session of the attempt the questions are governed as. */
  synchronized ClientSession session() {
    return session;
  }

  /** The attempt the questions are governed as. */
  synchronized InFlight work() {
    return work;
  }

  /**
   * Takes a question of the backend, for the next {@code input_required} result. Returns
   * {@code null} when the call has ended, or has {@value #MAX_OPEN_QUESTIONS} questions waiting.
   */
  synchronized @Nullable Question ask(String method, JsonNode params) {
    if (ended || open() >= MAX_OPEN_QUESTIONS) {
      return null;
    }
    String kind = method.substring(0, method.indexOf('/') < 0 ? method.length() : method.indexOf('/'));
    Question question = new Question(kind + "_" + (++asked), method, params);
    questions.add(question);
    CompletableFuture<Void> told = news;
    news = new CompletableFuture<>();
    told.complete(null);
    return question;
  }

  private int open() {
    int open = 0;
    for (Question question : questions) {
      if (!question.answer.isDone()) {
        open++;
      }
    }
    return open;
  }

  /** Completes when the backend asks its next question. */
  synchronized CompletableFuture<Void> news() {
    return news;
  }

  /**
   * The questions no {@code input_required} result has carried yet (or whose answers a retry
   * lacked), now marked as carried; empty when there are none.
   */
  synchronized List<Question> unsent() {
    List<Question> found = new ArrayList<>();
    for (Question question : questions) {
      if (!question.sent && !question.answer.isDone()) {
        question.sent = true;
        found.add(question);
      }
    }
    return found;
  }

  /** The {@code inputRequests} of an {@code input_required} result for these questions. */
  static ObjectNode inputRequests(List<Question> asked) {
    ObjectNode requests = NODES.objectNode();
    for (Question question : asked) {
      ObjectNode request = requests.putObject(question.key).put("method", question.method);
      request.set("params", question.params.isObject() ? question.params : NODES.objectNode());
    }
    return requests;
  }

  /**
   * Parks the call between attempts, under the nonce of the state just issued, holding {@code
   * quotaKey}'s slot. Returns false if the call ended meanwhile.
   */
  synchronized boolean park(String stateNonce, @Nullable String slot) {
    if (ended) {
      return false;
    }
    attached = false;
    nonce = stateNonce;
    quotaKey = slot;
    return true;
  }

  /**
   * A retry continues the call: it becomes the attempt the questions are governed as, and the
   * slot the parked call held is given back (the retry holds its own). Returns the slot to
   * release ({@code ""} for none), or {@code null} when the call cannot be continued: it ended,
   * or another retry continues it.
   */
  synchronized @Nullable String attach(ClientSession retrySession, InFlight retry, String stateNonce) {
    if (ended || attached || !stateNonce.equals(nonce)) {
      return null;
    }
    attached = true;
    nonce = null;
    session = retrySession;
    work = retry;
    String slot = quotaKey;
    quotaKey = null;
    return slot == null ? "" : slot;
  }

  /**
   * Gives a retry's answers to the questions it was asked; a question whose answer is missing
   * or not an object is asked again in the next {@code input_required} result.
   */
  synchronized void answer(JsonNode inputResponses) {
    for (Question question : questions) {
      if (!question.sent || question.answer.isDone()) {
        continue;
      }
      JsonNode answer = inputResponses.get(question.key);
      if (answer != null && answer.isObject()) {
        question.answer.complete(answer);
      } else {
        question.sent = false;
      }
    }
  }

  /** Whether the call is parked and its deadline has passed. */
  synchronized boolean expired(long nowNanos) {
    return !ended && !attached && nowNanos - deadlineNanos >= 0;
  }

  /** The nonce of the state that continues the parked call, or {@code null}. */
  synchronized @Nullable String nonce() {
    return nonce;
  }

  /**
   * Ends the call: unanswered questions fail (their backend gets no answer: its call is over).
   * Returns the slot the call held while parked, to release, or {@code null}.
   */
  synchronized @Nullable String end() {
    if (ended) {
      return null;
    }
    ended = true;
    for (Question question : questions) {
      question.answer.completeExceptionally(new CancellationException("the call ended"));
    }
    news.complete(null);
    String slot = quotaKey;
    quotaKey = null;
    return slot;
  }

  /** Whether an attempt waits on the call (it is not parked). */
  synchronized boolean attached() {
    return attached && !ended;
  }

  synchronized boolean ended() {
    return ended;
  }
}
