package dev.sentinel.mcp.streamable;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.api.Clock;
import dev.sentinel.api.Credentials;
import dev.sentinel.api.Principal;
import dev.sentinel.api.Transport;
import dev.sentinel.core.testing.Conditions;
import dev.sentinel.mcp.jsonrpc.ErrorCode;
import dev.sentinel.mcp.jsonrpc.JsonRpc;
import dev.sentinel.mcp.jsonrpc.JsonRpcMessage;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * A Streamable HTTP session without an HTTP server: requests come with an in-memory
 * {@link MemoryChannel}, and the test plays the engine ({@link Engine}), answering each exchange
 * as the engine would. What is checked is the session's part: which response each message goes
 * to, JSON or SSE, the standalone stream and its resumption, stream slots, cancellation, the end
 * of the session, and the bounds a client that does not read runs into.
 */
class StreamableSessionTest {
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final String ALICE = "alice";
  private static final Principal ALICE_PRINCIPAL = Principal.of(ALICE, "user");
  private static final Credentials CREDENTIALS = Credentials.bearer("alice-token");

  private final ExecutorService pool = Executors.newCachedThreadPool();
  private final Counted counted = new Counted();
  private final Engine engine = new Engine();
  private StreamableHub hub = hub(2, 64, 256);

  @AfterEach
  void stop() {
    pool.shutdownNow();
  }

  /** Where refusals and drops are counted. */
  private static final class Counted implements StreamableHub.Counters {
    final List<String> refused = new CopyOnWriteArrayList<>();
    final List<String> streamsDropped = new CopyOnWriteArrayList<>();
    final AtomicInteger eventsDropped = new AtomicInteger();

    @Override
    public void refused(String cap) {
      refused.add(cap);
    }

    @Override
    public void eventDropped() {
      eventsDropped.incrementAndGet();
    }

    @Override
    public void streamDropped(String reason) {
      streamsDropped.add(reason);
    }
  }

  /** Plays the engine: takes the exchanges in the order the session delivers them. */
  private static final class Engine implements Transport.Receiver {
    final BlockingQueue<Transport.Exchange> exchanges = new LinkedBlockingQueue<>();
    final AtomicInteger closed = new AtomicInteger();

    @Override
    public void message(JsonNode message) {
      throw new AssertionError("a session delivers exchanges, never bare messages");
    }

    @Override
    public void exchange(Transport.Exchange exchange) {
      exchanges.add(exchange);
    }

    @Override
    public void closed(Throwable cause) {
      closed.incrementAndGet();
    }

    Transport.Exchange next() {
      try {
        Transport.Exchange exchange = exchanges.poll(10, TimeUnit.SECONDS);
        assertThat(exchange).as("an exchange was delivered").isNotNull();
        return exchange;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }

  private StreamableHub hub(int streamsPerPrincipal, int streamEvents, int sessionEvents) {
    return new StreamableHub(Clock.system(), pool,
        new Bounds(10, 5, streamsPerPrincipal, streamEvents, 64 * 1024, sessionEvents, 256 * 1024), counted);
  }

  private StreamableSession open() {
    StreamableSession session = hub.open(ALICE).session();
    session.start(engine);
    return session;
  }

  private static JsonRpcMessage request(int id, String method) {
    return JsonRpc.classify(JsonRpc.request(NODES.numberNode(id), method, NODES.objectNode()));
  }

  private static ObjectNode result(JsonNode id) {
    return JsonRpc.result(id, NODES.objectNode().put("ok", true));
  }

  private static ObjectNode progress(int value) {
    return JsonRpc.notification("notifications/progress",
        NODES.objectNode().put("progressToken", "t").put("progress", value));
  }

  private static ObjectNode note(int n) {
    return JsonRpc.notification("notifications/message", NODES.objectNode().put("n", n).put("pad", "x".repeat(100)));
  }

  private static StreamableSession.Admission ask(StreamableSession session, int id, MemoryChannel channel,
      boolean json, boolean sse) {
    return session.request(request(id, "tools/call"), CREDENTIALS, ALICE_PRINCIPAL, channel, json, sse, false);
  }

  @Test
  void eachAnswerGoesToTheResponseOfItsOwnRequest_inJson_whateverTheOrder() throws Exception {
    StreamableSession session = open();
    MemoryChannel first = new MemoryChannel();
    MemoryChannel second = new MemoryChannel();
    assertThat(ask(session, 1, first, true, true)).isEqualTo(StreamableSession.Admission.ACCEPTED);
    assertThat(ask(session, 2, second, true, true)).isEqualTo(StreamableSession.Admission.ACCEPTED);

    Transport.Exchange one = engine.next();
    Transport.Exchange two = engine.next();
    assertThat(one.message().path("id").asInt()).as("delivered in the order read").isEqualTo(1);
    assertThat(one.principal()).isEqualTo(ALICE_PRINCIPAL);
    assertThat(one.credentials()).isEqualTo(CREDENTIALS);
    assertThat(hub.awaitQuiet(0)).as("two requests wait for their answers").isFalse();
    two.reply(result(two.message().get("id")));
    one.reply(result(one.message().get("id")));

    assertThat(first.awaitDone().kind()).isEqualTo("json");
    assertThat(first.status()).isEqualTo(200);
    assertThat(first.json().path("id").asInt()).isEqualTo(1);
    assertThat(second.awaitDone().json().path("id").asInt()).isEqualTo(2);
    assertThat(hub.awaitQuiet(0)).isTrue();
    assertThat(hub.holding(ALICE)).containsExactly(1, 0);
  }

  @Test
  void whatComesBeforeTheAnswer_turnsTheResponseIntoAnEventStream_thatEndsWithTheAnswer() throws Exception {
    StreamableSession session = open();
    MemoryChannel channel = new MemoryChannel();
    ask(session, 7, channel, true, true);
    Transport.Exchange exchange = engine.next();

    exchange.reply(progress(1));
    exchange.reply(progress(2));
    assertThat(channel.kind()).isEqualTo("sse");
    assertThat(hub.holding(ALICE)).as("the stream holds a slot").containsExactly(1, 1);
    exchange.reply(result(exchange.message().get("id")));

    channel.awaitDone();
    assertThat(channel.ended()).isTrue();
    assertThat(channel.events()).extracting(event -> event[0]).containsExactly("1-1", "1-2", "1-3");
    assertThat(channel.messages()).extracting(message -> message.path("params").path("progress").asInt(-1))
        .containsExactly(1, 2, -1);
    assertThat(channel.messages().get(2).path("id").asInt()).isEqualTo(7);
    assertThat(hub.holding(ALICE)).as("the slot is back").containsExactly(1, 0);
  }

  @Test
  void aClientThatAcceptsOnlyJson_getsWhatComesBeforeItsAnswerOnTheStandaloneStream() throws Exception {
    StreamableSession session = open();
    MemoryChannel channel = new MemoryChannel();
    ask(session, 3, channel, true, false);
    Transport.Exchange exchange = engine.next();
    exchange.reply(progress(1));
    exchange.reply(result(exchange.message().get("id")));
    assertThat(channel.awaitDone().json().path("id").asInt()).isEqualTo(3);

    MemoryChannel get = new MemoryChannel();
    assertThat(session.listen(get, null)).isEqualTo(StreamableSession.Admission.ACCEPTED);
    assertThat(get.messages()).extracting(message -> message.path("method").asString())
        .containsExactly("notifications/progress");
  }

  @Test
  void whatBelongsToNoRequest_waitsForTheStandaloneStream_andResumesAfterLastEventId() throws Exception {
    StreamableSession session = open();
    for (int n = 1; n <= 3; n++) {
      session.send(note(n));
    }
    MemoryChannel get = new MemoryChannel();
    session.listen(get, null);
    session.send(note(4));
    assertThat(get.events()).extracting(event -> event[0]).containsExactly("0-1", "0-2", "0-3", "0-4");

    MemoryChannel resumed = new MemoryChannel();
    assertThat(session.listen(resumed, "0-2")).as("a second GET replaces the first").isEqualTo(
        StreamableSession.Admission.ACCEPTED);
    assertThat(resumed.messages()).extracting(message -> message.path("params").path("n").asInt())
        .containsExactly(3, 4);
    assertThat(get.awaitDone().ended()).as("the replaced stream ends").isTrue();
    assertThat(hub.holding(ALICE)[1]).isEqualTo(1);
  }

  @Test
  void anAnswerThatCanOnlyBeSse_withoutAFreeStreamSlot_isRefusedBeforeTheEngineSeesIt() throws Exception {
    hub = hub(1, 64, 256);
    StreamableSession session = open();
    session.listen(new MemoryChannel(), null);

    assertThat(ask(session, 4, new MemoryChannel(), false, true))
        .isEqualTo(StreamableSession.Admission.AT_STREAM_CAP);
    assertThat(engine.exchanges.poll(200, TimeUnit.MILLISECONDS)).isNull();
    assertThat(counted.refused).containsExactly("max_streams_per_principal");

    // One that also accepts JSON is taken, and answered in JSON when its messages find no slot.
    MemoryChannel json = new MemoryChannel();
    assertThat(ask(session, 5, json, true, true)).isEqualTo(StreamableSession.Admission.ACCEPTED);
    Transport.Exchange exchange = engine.next();
    exchange.reply(progress(1));
    exchange.reply(result(exchange.message().get("id")));
    assertThat(json.awaitDone().json().path("id").asInt()).isEqualTo(5);
  }

  @Test
  void aCancelledRequestGetsNoAnswer_itsJsonResponseIs204_itsStreamEnds() throws Exception {
    StreamableSession session = open();
    MemoryChannel json = new MemoryChannel();
    MemoryChannel sse = new MemoryChannel();
    ask(session, 1, json, true, true);
    ask(session, 2, sse, true, true);
    Transport.Exchange one = engine.next();
    Transport.Exchange two = engine.next();
    two.reply(progress(1));

    one.cancelled();
    two.cancelled();

    assertThat(json.awaitDone().kind()).isEqualTo("empty");
    assertThat(json.status()).isEqualTo(204);
    assertThat(sse.awaitDone().ended()).isTrue();
    assertThat(sse.messages()).extracting(message -> message.path("method").asString())
        .containsExactly("notifications/progress");
    assertThat(hub.awaitQuiet(0)).isTrue();
    Conditions.await("the stream's slot is back", () -> hub.holding(ALICE)[1] == 0);
    assertThat(session.idleLongerThan(0, Long.MAX_VALUE)).as("nothing holds the session").isTrue();
  }

  @Test
  void endingTheSession_answersWhatWaits_endsItsStreams_andForgetsIt() throws Exception {
    StreamableSession session = open();
    MemoryChannel json = new MemoryChannel();
    MemoryChannel sseOnly = new MemoryChannel();
    MemoryChannel get = new MemoryChannel();
    ask(session, 1, json, true, true);
    ask(session, 2, sseOnly, false, true);
    session.listen(get, null);
    engine.next();
    engine.next();

    session.terminate();

    JsonNode ended = json.awaitDone().json();
    assertThat(ended.path("error").path("code").asInt()).isEqualTo(ErrorCode.INTERNAL_ERROR.code());
    assertThat(ended.path("error").path("message").asString()).isEqualTo("the session ended");
    assertThat(sseOnly.awaitDone().status()).isEqualTo(404);
    assertThat(get.awaitDone().ended()).isTrue();
    assertThat(hub.find(session.id())).isNull();
    assertThat(hub.sessionCount()).isZero();
    Conditions.await("the engine is told once", () -> engine.closed.get() == 1);
    Conditions.await("the principal holds nothing", () -> hub.holding(ALICE)[0] == 0 && hub.holding(ALICE)[1] == 0);
    assertThat(hub.awaitQuiet(0)).isTrue();
    assertThat(session.request(request(3, "ping"), CREDENTIALS, ALICE_PRINCIPAL, new MemoryChannel(), true, true,
        false)).isEqualTo(StreamableSession.Admission.CLOSED);
  }

  @Test
  void aFailedInitializeLeavesNoSessionBehind() throws Exception {
    StreamableSession session = open();
    MemoryChannel channel = new MemoryChannel();
    session.request(request(0, "initialize"), CREDENTIALS, ALICE_PRINCIPAL, channel, true, true, true);
    Transport.Exchange exchange = engine.next();
    exchange.reply(JsonRpc.error(exchange.message().get("id"), ErrorCode.INVALID_PARAMS, "no"));

    assertThat(channel.awaitDone().json().path("error").path("code").asInt()).isEqualTo(ErrorCode.INVALID_PARAMS.code());
    Conditions.await("the session is gone", () -> hub.sessionCount() == 0);
  }

  @Test
  void aFailedInitializeWhileTheGatewayStops_isStillAnswered_andTheEngineSeesNoError() throws Exception {
    StreamableSession session = open();
    MemoryChannel channel = new MemoryChannel();
    session.request(request(0, "initialize"), CREDENTIALS, ALICE_PRINCIPAL, channel, true, true, true);
    Transport.Exchange exchange = engine.next();
    pool.shutdown();

    exchange.reply(JsonRpc.error(exchange.message().get("id"), ErrorCode.INVALID_PARAMS, "no"));

    assertThat(channel.awaitDone().json().path("error").path("code").asInt()).isEqualTo(ErrorCode.INVALID_PARAMS.code());
  }

  @Test
  void eventsNobodyReads_areForgottenOldestFirst_withinTheStreamsBound() throws Exception {
    hub = hub(2, 4, 256);
    StreamableSession session = open();
    for (int n = 1; n <= 20; n++) {
      session.send(note(n));
    }

    assertThat(counted.eventsDropped).hasValue(16);
    assertThat(session.budget().events()).isEqualTo(4);
    MemoryChannel get = new MemoryChannel();
    session.listen(get, null);
    assertThat(get.events()).extracting(event -> event[0]).containsExactly("0-17", "0-18", "0-19", "0-20");
  }

  @Test
  void aClientThatStopsReading_isDropped_andTheSessionHoldsNoMoreThanItsBound() throws Exception {
    hub = hub(2, 4, 256);
    StreamableSession session = open();
    MemoryChannel get = new MemoryChannel();
    session.listen(get, null);
    get.stall();
    // A connection may hold twice what its stream keeps: 8 writes, then it is dropped.
    for (int n = 1; n <= 12; n++) {
      session.send(note(n));
    }

    assertThat(get.aborted()).as("the connection was closed").isNotNull();
    assertThat(counted.streamsDropped).containsExactly("slow_reader");
    assertThat(get.awaitDone().failure()).isNotNull();
    assertThat(session.budget().events()).as("only what the stream keeps for a resumption").isLessThanOrEqualTo(4);
    Conditions.await("the slot is back", () -> hub.holding(ALICE)[1] == 0);

    // The client comes back from the last event it read: the newest events, within the stream's bound.
    MemoryChannel resumed = new MemoryChannel();
    session.listen(resumed, "0-1");
    assertThat(resumed.messages()).extracting(message -> message.path("params").path("n").asInt())
        .containsExactly(9, 10, 11, 12);
  }

  @Test
  void theSessionsBound_dropsTheConnectionHoldingTheMost_whenEventsAloneCannotMakeRoom() throws Exception {
    // A session bound of 6 events, streams of 4: two stalled streams hold more than the session may.
    hub = hub(3, 4, 6);
    StreamableSession session = open();
    MemoryChannel stalled = new MemoryChannel();
    ask(session, 1, stalled, true, true);
    Transport.Exchange exchange = engine.next();
    stalled.stall();
    for (int n = 1; n <= 8; n++) {
      exchange.reply(progress(n));
    }

    assertThat(stalled.aborted()).isNotNull();
    assertThat(counted.streamsDropped).contains("session_buffer");
    assertThat(session.budget().events()).isLessThanOrEqualTo(6 + 1);
  }

  // ---- hostile: delivery on the reading thread (SerialExecutor.runOrQueue) ---------------------

  /** An engine that throws what it is told to on the first exchange, then takes the others. */
  private static final class Throwing implements Transport.Receiver {
    final Engine then = new Engine();
    final Throwable first;
    final AtomicInteger seen = new AtomicInteger();

    Throwing(Throwable first) {
      this.first = first;
    }

    @Override
    public void message(JsonNode message) {
      throw new AssertionError("a session delivers exchanges, never bare messages");
    }

    @Override
    public void exchange(Transport.Exchange exchange) {
      if (seen.getAndIncrement() == 0) {
        if (first instanceof RuntimeException) {
          throw (RuntimeException) first;
        }
        throw (Error) first;
      }
      then.exchange(exchange);
    }

    @Override
    public void closed(Throwable cause) {
      then.closed(cause);
    }
  }

  @Test
  void anEngineThatThrowsAnError_onTheReadingThread_doesNotWedgeTheSessionsDelivery() throws Exception {
    StreamableSession session = hub.open(ALICE).session();
    Throwing engine = new Throwing(new StackOverflowError("deep"));
    session.start(engine);
    try {
      ask(session, 1, new MemoryChannel(), true, true);
    } catch (StackOverflowError expected) {
      // Delivered on this thread: what the engine throws reaches the caller (the server's handler).
    }

    MemoryChannel second = new MemoryChannel();
    ask(session, 2, second, true, true);
    Transport.Exchange two = engine.then.next();
    two.reply(result(two.message().get("id")));

    assertThat(second.awaitDone().json().path("id").asInt()).isEqualTo(2);
  }

  @Test
  void anEngineThatThrows_onTheReadingThread_leavesTheNextRequestDeliveredInOrder() throws Exception {
    StreamableSession session = hub.open(ALICE).session();
    Throwing engine = new Throwing(new IllegalStateException("boom"));
    session.start(engine);

    ask(session, 1, new MemoryChannel(), true, true);
    MemoryChannel second = new MemoryChannel();
    ask(session, 2, second, true, true);
    Transport.Exchange two = engine.then.next();
    two.reply(result(two.message().get("id")));

    assertThat(second.awaitDone().json().path("id").asInt()).isEqualTo(2);
  }

  @Test
  void anEngineThatAnswersAndAsksAgainOnTheReadingThread_neitherDeadlocksNorReorders() throws Exception {
    StreamableSession session = hub.open(ALICE).session();
    List<Integer> order = new CopyOnWriteArrayList<>();
    MemoryChannel first = new MemoryChannel();
    MemoryChannel second = new MemoryChannel();
    AtomicInteger depth = new AtomicInteger();
    session.start(new Transport.Receiver() {
      @Override
      public void message(JsonNode message) {
        throw new AssertionError("exchanges only");
      }

      @Override
      public void exchange(Transport.Exchange exchange) {
        int id = exchange.message().path("id").asInt();
        assertThat(depth.incrementAndGet()).as("one delivery at a time").isEqualTo(1);
        order.add(id);
        try {
          exchange.reply(progress(id));
          exchange.reply(result(exchange.message().get("id")));
          if (id == 1) {
            // The engine, still inside the delivery, causes another request of the same session.
            assertThat(ask(session, 2, second, true, true)).isEqualTo(StreamableSession.Admission.ACCEPTED);
            assertThat(order).as("queued behind the running delivery, not run inside it").containsExactly(1);
          }
        } catch (java.io.IOException e) {
          throw new AssertionError(e);
        } finally {
          depth.decrementAndGet();
        }
      }

      @Override
      public void closed(Throwable cause) {
      }
    });

    ask(session, 1, first, true, true);
    Conditions.await("the second is delivered", () -> order.size() == 2);

    assertThat(order).containsExactly(1, 2);
    assertThat(first.awaitDone().messages()).extracting(m -> m.path("id").asInt(-1)).containsExactly(-1, 1);
    assertThat(second.awaitDone().messages()).extracting(m -> m.path("id").asInt(-1)).containsExactly(-1, 2);
    Conditions.await("both stream slots are back", () -> hub.holding(ALICE)[1] == 0);
    assertThat(hub.awaitQuiet(0)).isTrue();
  }

  @Test
  void theSessionEndingInsideAnInlineDelivery_answersWhatWaits_andTellsTheEngineOnceAfterwards() throws Exception {
    StreamableSession session = hub.open(ALICE).session();
    AtomicInteger closedCalls = new AtomicInteger();
    List<String> seen = new CopyOnWriteArrayList<>();
    MemoryChannel channel = new MemoryChannel();
    session.start(new Transport.Receiver() {
      @Override
      public void message(JsonNode message) {
        throw new AssertionError("exchanges only");
      }

      @Override
      public void exchange(Transport.Exchange exchange) {
        seen.add("exchange");
        session.terminate();
        try {
          exchange.reply(result(exchange.message().get("id")));
          seen.add("replied");
        } catch (java.io.IOException closed) {
          seen.add("closed");
        }
      }

      @Override
      public void closed(Throwable cause) {
        seen.add("told");
        closedCalls.incrementAndGet();
      }
    });

    ask(session, 1, channel, true, true);

    assertThat(channel.awaitDone().json().path("error").path("message").asString()).isEqualTo("the session ended");
    Conditions.await("the engine is told", () -> closedCalls.get() == 1);
    assertThat(seen).containsExactly("exchange", "closed", "told");
    assertThat(hub.awaitQuiet(0)).isTrue();
    assertThat(hub.sessionCount()).isZero();
  }

  @Test
  void aFloodOfRequestsFromManyThreads_isDeliveredOneAtATime_eachThreadsInOrder_andAllAnswered() throws Exception {
    StreamableSession session = hub.open(ALICE).session();
    int threads = 4;
    int each = 250;
    AtomicInteger inside = new AtomicInteger();
    AtomicInteger overlaps = new AtomicInteger();
    List<Integer> order = new CopyOnWriteArrayList<>();
    session.start(new Transport.Receiver() {
      @Override
      public void message(JsonNode message) {
        throw new AssertionError("exchanges only");
      }

      @Override
      public void exchange(Transport.Exchange exchange) {
        if (inside.incrementAndGet() != 1) {
          overlaps.incrementAndGet();
        }
        order.add(exchange.message().path("id").asInt());
        try {
          exchange.reply(result(exchange.message().get("id")));
        } catch (java.io.IOException e) {
          throw new AssertionError(e);
        } finally {
          inside.decrementAndGet();
        }
      }

      @Override
      public void closed(Throwable cause) {
      }
    });
    List<MemoryChannel> channels = new CopyOnWriteArrayList<>();
    java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
    List<java.util.concurrent.Future<?>> posters = new java.util.ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int thread = t;
      posters.add(pool.submit(() -> {
        go.await();
        for (int n = 0; n < each; n++) {
          MemoryChannel channel = new MemoryChannel();
          channels.add(channel);
          assertThat(ask(session, thread * 10_000 + n, channel, true, true))
              .isEqualTo(StreamableSession.Admission.ACCEPTED);
        }
        return null;
      }));
    }
    go.countDown();
    for (java.util.concurrent.Future<?> poster : posters) {
      poster.get(30, TimeUnit.SECONDS);
    }

    Conditions.await("every request was delivered", () -> order.size() == threads * each);
    assertThat(overlaps).as("never two deliveries of a session at once").hasValue(0);
    for (int t = 0; t < threads; t++) {
      int thread = t;
      assertThat(order.stream().filter(id -> id / 10_000 == thread).toList()).as("thread %d's order", t)
          .isSorted().hasSize(each);
    }
    for (MemoryChannel channel : channels) {
      assertThat(channel.awaitDone().status()).isEqualTo(200);
    }
    assertThat(hub.awaitQuiet(0)).isTrue();
    assertThat(session.budget().events()).isZero();
  }

  @Test
  void aClientNotificationOrAnswer_isNotDeliveredOnTheReadingThread_whichTheEngineMayBlockOnABackendsWrite()
      throws Exception {
    // The engine forwards a client's notification (cancelled, roots/list_changed) or its answer to
    // a backend's question by writing to the backend at once, which blocks while a stdio backend
    // does not read: on the server's thread, that would hold the thread and the POST's 202.
    StreamableSession session = hub.open(ALICE).session();
    List<Thread> deliveredOn = new CopyOnWriteArrayList<>();
    session.start(new Transport.Receiver() {
      @Override
      public void message(JsonNode message) {
        throw new AssertionError("exchanges only");
      }

      @Override
      public void exchange(Transport.Exchange exchange) {
        deliveredOn.add(Thread.currentThread());
      }

      @Override
      public void closed(Throwable cause) {
      }
    });

    assertThat(session.accept(JsonRpc.classify(JsonRpc.notification("notifications/cancelled",
        NODES.objectNode().put("requestId", 1))), CREDENTIALS, ALICE_PRINCIPAL)).isTrue();
    assertThat(session.accept(JsonRpc.classify(JsonRpc.result(NODES.numberNode(5), NODES.objectNode())),
        CREDENTIALS, ALICE_PRINCIPAL)).isTrue();
    Conditions.await("both are delivered", () -> deliveredOn.size() == 2);

    assertThat(deliveredOn).as("delivered on the session's pool, not the reading thread")
        .doesNotContain(Thread.currentThread());
  }

  @Test
  void whatQueuesBehindAnInlineDelivery_runsOnThePool_soOneReadingThreadNeverServesAFloodOfOthers()
      throws Exception {
    StreamableSession session = hub.open(ALICE).session();
    java.util.Map<Integer, Thread> deliveredOn = new java.util.concurrent.ConcurrentHashMap<>();
    java.util.concurrent.CountDownLatch firstRunning = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    session.start(new Transport.Receiver() {
      @Override
      public void message(JsonNode message) {
        throw new AssertionError("exchanges only");
      }

      @Override
      public void exchange(Transport.Exchange exchange) {
        int id = exchange.message().path("id").asInt(-1);
        deliveredOn.put(id, Thread.currentThread());
        if (id == 1) {
          firstRunning.countDown();
          try {
            release.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }
      }

      @Override
      public void closed(Throwable cause) {
      }
    });
    // The server's reading thread: not one of the session pool's, which may serve what queues.
    Thread first = new Thread(() -> ask(session, 1, new MemoryChannel(), true, true), "reader");
    first.start();
    assertThat(firstRunning.await(10, TimeUnit.SECONDS)).isTrue();

    ask(session, 2, new MemoryChannel(), true, true);
    ask(session, 3, new MemoryChannel(), true, true);
    release.countDown();
    first.join(10_000);
    assertThat(first.isAlive()).as("the reading thread returned").isFalse();
    Conditions.await("all three are delivered", () -> deliveredOn.size() == 3);

    assertThat(deliveredOn.get(1)).as("the idle session's request, on the thread that read it").isSameAs(first);
    assertThat(deliveredOn.get(2)).as("what queued meanwhile, not on that thread").isNotSameAs(first);
    assertThat(deliveredOn.get(3)).isNotSameAs(first);
  }

  @Test
  void eventIdsNameTheStreamAndThePosition() {
    assertThat(EventStream.parseEventId("3-17")).containsExactly(3, 17);
    assertThat(EventStream.parseEventId("0-0")).containsExactly(0, 0);
    for (String bad : new String[] {null, "", "3", "-1", "3-", "a-1", "1-b", "1--2", "99999999999-1"}) {
      assertThat(EventStream.parseEventId(bad)).as(String.valueOf(bad)).isNull();
    }
  }
}
