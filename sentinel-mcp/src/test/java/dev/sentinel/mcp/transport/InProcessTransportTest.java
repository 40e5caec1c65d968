package dev.sentinel.mcp.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sentinel.api.Transport;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;

class InProcessTransportTest {

  private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

  /** Collects what a transport delivers. */
  private static final class Inbox implements Transport.Receiver {
    final BlockingQueue<JsonNode> messages = new LinkedBlockingQueue<>();
    final List<Throwable> closes = new CopyOnWriteArrayList<>();
    final CountDownLatch closed = new CountDownLatch(1);

    @Override
    public void message(JsonNode message) {
      messages.add(message);
    }

    @Override
    public void closed(Throwable cause) {
      closes.add(cause == null ? new Throwable("normal") : cause);
      closed.countDown();
    }
  }

  @Test
  void send_deliversToPeerInOrder() throws Exception {
    InProcessTransport[] pair = InProcessTransport.pair("t");
    Inbox server = new Inbox();
    pair[1].start(server);
    pair[0].start(new Inbox());
    for (int i = 0; i < 100; i++) {
      pair[0].send(JSON.objectNode().put("id", i));
    }
    for (int i = 0; i < 100; i++) {
      assertThat(server.messages.poll(5, TimeUnit.SECONDS).get("id").asInt()).isEqualTo(i);
    }
    pair[0].close();
  }

  @Test
  void close_closesBothEndsOnceAfterPendingMessages() throws Exception {
    InProcessTransport[] pair = InProcessTransport.pair("t");
    Inbox a = new Inbox();
    Inbox b = new Inbox();
    pair[0].start(a);
    pair[0].send(JSON.objectNode().put("last", true));
    pair[1].close();
    pair[0].close();
    pair[1].start(b);

    assertThat(a.closed.await(5, TimeUnit.SECONDS)).isTrue();
    assertThat(b.closed.await(5, TimeUnit.SECONDS)).isTrue();
    assertThat(b.messages).hasSize(1);
    assertThat(a.closes).hasSize(1);
    assertThat(b.closes).hasSize(1);
    assertThat(pair[0].isOpen()).isFalse();
  }

  @Test
  void send_afterClose_fails() {
    InProcessTransport[] pair = InProcessTransport.pair("t");
    pair[0].close();
    assertThatThrownBy(() -> pair[1].send(JSON.objectNode()))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("closed");
  }

  @Test
  void start_twice_fails() {
    InProcessTransport[] pair = InProcessTransport.pair("t");
    pair[0].start(new Inbox());
    assertThatThrownBy(() -> pair[0].start(new Inbox())).isInstanceOf(IllegalStateException.class);
    pair[0].close();
  }
}
