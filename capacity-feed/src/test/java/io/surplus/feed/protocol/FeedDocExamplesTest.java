package io.surplus.feed.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Keeps docs/FEED.md honest: every example event line in it parses, and covers every type. */
class FeedDocExamplesTest {

  @Test
  void shouldParseEveryExampleLineInTheFeedDocument() throws Exception {
    List<String> lines =
        Files.readAllLines(Path.of("..", "docs", "FEED.md")).stream()
            .filter(l -> l.startsWith("{\"type\":"))
            .toList();
    FeedParser parser = new FeedParser();
    for (int i = 0; i < lines.size(); i++) {
      assertInstanceOf(FeedEvent.class, parser.parse(lines.get(i), i + 1), lines.get(i));
    }
    assertEquals(
        List.of(
            FeedEvent.WINDOW_OPENED,
            FeedEvent.WINDOW_EXTENDED,
            FeedEvent.WINDOW_REVOKED,
            FeedEvent.WINDOW_REVOKED,
            FeedEvent.HEARTBEAT),
        lines.stream().map(l -> ((FeedEvent) parser.parse(l, 1)).type()).toList());
  }
}
