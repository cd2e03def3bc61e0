package io.surplus.feed.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.surplus.feed.ingest.SequenceGate.Decision;
import io.surplus.feed.ingest.SequenceGate.Verdict;
import io.surplus.feed.protocol.FeedError;
import io.surplus.feed.protocol.Heartbeat;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.junit.jupiter.api.Test;

class SequenceGateTest {

  private static ParsedLine event(long line, long seq) {
    return new ParsedLine(line, new Heartbeat(seq, Optional.empty()));
  }

  private static List<Verdict> admitAll(SequenceGate gate, long... seqs) {
    List<Verdict> verdicts = new ArrayList<>();
    for (int i = 0; i < seqs.length; i++) {
      verdicts.add(gate.admit(event(i + 1, seqs[i])).verdict());
    }
    return verdicts;
  }

  @Test
  void shouldApplyConsecutiveSequenceNumbersFromTheFirst() {
    SequenceGate gate = new SequenceGate(0);
    assertEquals(List.of(Verdict.APPLY, Verdict.APPLY, Verdict.APPLY), admitAll(gate, 1, 2, 3));
    assertEquals(new SequenceGate.Outcome(3, 3, 0, Optional.empty()), gate.outcome());
  }

  @Test
  void shouldSkipAndCountDuplicatesWhenAProviderResendsAfterADrop() {
    // The first request applied 1-3, but the provider never saw the reply and resends 1-5.
    SequenceGate gate = new SequenceGate(3);
    assertEquals(
        List.of(
            Verdict.DUPLICATE, Verdict.DUPLICATE, Verdict.DUPLICATE, Verdict.APPLY, Verdict.APPLY),
        admitAll(gate, 1, 2, 3, 4, 5));
    assertEquals(new SequenceGate.Outcome(5, 2, 3, Optional.empty()), gate.outcome());
  }

  @Test
  void shouldRefuseAGapAndApplyNothingAfterIt() {
    SequenceGate gate = new SequenceGate(10);
    assertEquals(
        List.of(Verdict.APPLY, Verdict.GAP, Verdict.CLOSED, Verdict.CLOSED),
        admitAll(gate, 11, 13, 12, 14));
    SequenceGate.Outcome outcome = gate.outcome();
    assertEquals(11, outcome.lastApplied());
    assertEquals(1, outcome.applied());
    FeedError error = outcome.error().orElseThrow();
    assertEquals(2, error.line());
    assertEquals("seq", error.field());
    assertTrue(error.rule().contains("must be 12"), error.rule());
  }

  @Test
  void shouldStopAtAnInvalidLineAndReportItsError() {
    SequenceGate gate = new SequenceGate(0);
    FeedError bad = new FeedError(2, "nodes", "must be > 0");
    assertEquals(Verdict.APPLY, gate.admit(event(1, 1)).verdict());
    Decision d = gate.admit(new ParsedLine(2, bad));
    assertEquals(Verdict.INVALID, d.verdict());
    assertEquals(Verdict.CLOSED, gate.admit(event(3, 2)).verdict());
    assertEquals(new SequenceGate.Outcome(1, 1, 0, Optional.of(bad)), gate.outcome());
  }

  @Test
  void shouldRefuseANegativeLastApplied() {
    assertThrows(IllegalArgumentException.class, () -> new SequenceGate(-1));
  }

  @Test
  void shouldEndTheStreamRightAfterAGap() throws Exception {
    ActorSystem system = ActorSystem.create("sequence-gate-test");
    try {
      List<Decision> decisions =
          Source.from(LongStream.of(4, 5, 6, 9, 10, 11).boxed().toList())
              .zipWithIndex()
              .map(p -> event(p.second() + 1, p.first()))
              .via(SequenceGate.flow(4))
              .runWith(Sink.seq(), system)
              .toCompletableFuture()
              .get(10, TimeUnit.SECONDS);
      assertEquals(
          List.of(Verdict.DUPLICATE, Verdict.APPLY, Verdict.APPLY, Verdict.GAP),
          decisions.stream().map(Decision::verdict).toList());
      assertEquals(
          List.of(5L, 6L),
          decisions.stream().flatMap(d -> d.toApply().stream()).map(e -> e.seq()).toList());
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }
}
