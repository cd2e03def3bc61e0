package io.surplus.feed.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.surplus.feed.protocol.FeedError;
import io.surplus.feed.protocol.FeedRules;
import io.surplus.feed.protocol.Heartbeat;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class FeedFlowTest {

  private static ActorSystem system;

  @BeforeAll
  static void start() {
    system = ActorSystem.create("feed-flow-test");
  }

  @AfterAll
  static void stop() throws Exception {
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static String heartbeat(long seq) {
    return "{\"type\":\"heartbeat\",\"seq\":" + seq + "}";
  }

  /** Lines 1-9: blank lines 2, 5 and 6, a CRLF ending, a bad line 7, no newline after line 9. */
  private static final String BODY =
      heartbeat(1)
          + "\n\n"
          + heartbeat(2)
          + "\r\n"
          + heartbeat(3)
          + "\n   \n\t\r\n"
          + "{\"type\":\"heartbeat\"}\n"
          + heartbeat(4)
          + "\n"
          + heartbeat(5);

  private static List<ParsedLine> run(List<ByteString> chunks) throws Exception {
    return Source.from(chunks)
        .via(FeedFlow.create())
        .runWith(Sink.seq(), system)
        .toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
  }

  private static List<ByteString> split(byte[] body, SplittableRandom rng) {
    List<ByteString> chunks = new ArrayList<>();
    int from = 0;
    while (from < body.length) {
      int to = Math.min(body.length, from + 1 + rng.nextInt(Math.max(1, body.length / 3)));
      chunks.add(ByteString.fromArray(body, from, to - from));
      from = to;
    }
    return chunks;
  }

  @Test
  void shouldNumberLinesTheSameWhereverTheBodyIsSplit() throws Exception {
    byte[] body = BODY.getBytes(StandardCharsets.UTF_8);
    List<ParsedLine> whole = run(List.of(ByteString.fromArray(body)));
    assertEquals(List.of(1L, 3L, 4L, 7L, 8L, 9L), whole.stream().map(ParsedLine::line).toList());
    assertEquals(new Heartbeat(2, java.util.Optional.empty()), whole.get(1).result());
    FeedError error = assertInstanceOf(FeedError.class, whole.get(3).result());
    assertEquals(7, error.line());
    assertEquals("seq", error.field());
    assertEquals(5, whole.get(5).event().orElseThrow().seq());

    SplittableRandom rng = new SplittableRandom(2025);
    for (int i = 0; i < 200; i++) {
      List<ByteString> chunks = split(body, rng);
      assertEquals(whole, run(chunks), () -> "split into " + chunks.size() + " chunks");
    }
    List<ByteString> bytewise = new ArrayList<>();
    for (byte b : body) {
      bytewise.add(ByteString.fromArray(new byte[] {b}));
    }
    assertEquals(whole, run(bytewise));
  }

  @Test
  void shouldRejectAnOverlongLineWithItsNumberAndStopThere() throws Exception {
    String longLine = heartbeat(2) + " ".repeat(FeedRules.MAX_LINE_BYTES * 2);
    String body = heartbeat(1) + "\n\n" + longLine + "\n" + heartbeat(3) + "\n";
    SplittableRandom rng = new SplittableRandom(7);
    for (int i = 0; i < 20; i++) {
      List<ParsedLine> lines = run(split(body.getBytes(StandardCharsets.UTF_8), rng));
      assertEquals(2, lines.size());
      assertEquals(1, lines.get(0).event().orElseThrow().seq());
      FeedError error = lines.get(1).error().orElseThrow();
      assertEquals(3, error.line());
      assertNull(error.field());
      assertTrue(error.rule().contains(String.valueOf(FeedRules.MAX_LINE_BYTES)));
    }
  }

  @Test
  void shouldAcceptALineOfExactlyTheLimitAndRefuseOneByteMore() throws Exception {
    String atLimit = heartbeat(1);
    atLimit += " ".repeat(FeedRules.MAX_LINE_BYTES - atLimit.length());
    String overLimit = heartbeat(2);
    overLimit += " ".repeat(FeedRules.MAX_LINE_BYTES + 1 - overLimit.length());
    List<ParsedLine> lines =
        run(List.of(ByteString.fromString(atLimit + "\r\n" + overLimit + "\n" + heartbeat(3))));
    assertEquals(1, lines.get(0).event().orElseThrow().seq());
    assertNull(lines.get(1).error().orElseThrow().field());
    // A line the parser refuses, rather than the framing, does not end the stream.
    assertEquals(3, lines.size());
  }

  @Test
  void shouldPullOnlyWhatItsConsumerAsksFor() throws Exception {
    AtomicInteger pulled = new AtomicInteger();
    int chunks = 100_000;
    ParsedLine first =
        Source.fromIterator(
                () ->
                    new java.util.Iterator<ByteString>() {
                      int i;

                      @Override
                      public boolean hasNext() {
                        return i < chunks;
                      }

                      @Override
                      public ByteString next() {
                        pulled.incrementAndGet();
                        return ByteString.fromString(heartbeat(++i) + "\n");
                      }
                    })
            .via(FeedFlow.create())
            .runWith(Sink.head(), system)
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
    assertEquals(1, first.line());
    assertTrue(pulled.get() < 100, "pulled " + pulled.get() + " chunks for one line");
  }
}
