package io.surplus.feed.ingest;

import io.surplus.feed.protocol.FeedError;
import io.surplus.feed.protocol.FeedEvent;
import java.util.Objects;
import java.util.Optional;
import org.apache.pekko.NotUsed;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.javadsl.Flow;

/**
 * The feed's sequence and resume rules for one provider, starting from the last sequence number the
 * service applied for it ({@code 0} before its first event):
 *
 * <ol>
 *   <li>{@code seq == lastApplied + 1}: {@link Verdict#APPLY}; the caller applies the event and the
 *       gate moves {@code lastApplied} to {@code seq}.
 *   <li>{@code seq <= lastApplied}: {@link Verdict#DUPLICATE}, skipped and counted, not an error. A
 *       provider that lost the reply to a request resends from what it last knew was applied; the
 *       events already applied are skipped, so resending is always safe.
 *   <li>{@code seq > lastApplied + 1}: {@link Verdict#GAP}, an error on field {@code seq}. Events
 *       in between were never applied, so neither this event nor any after it is applied.
 *   <li>A line that does not parse: {@link Verdict#INVALID}, and likewise nothing after it is
 *       applied. A line must parse before its {@code seq} is looked at.
 *   <li>After a {@code GAP} or {@code INVALID} every further line is {@link Verdict#CLOSED}.
 * </ol>
 *
 * <p>So the reply to a request is {@link #outcome()}: the last sequence number applied (where the
 * provider resumes: it sends from {@code lastApplied + 1}), how many were applied and skipped, and
 * the error that stopped the request, if any. A gate is for one request of one provider and one
 * thread. It assumes the caller applies each {@code APPLY} in order; a caller whose apply fails
 * must stop and report its own last applied sequence.
 */
public final class SequenceGate {

  /** What to do with one line. */
  public enum Verdict {
    APPLY,
    DUPLICATE,
    GAP,
    INVALID,
    CLOSED;

    /** Whether this verdict ends the request: nothing after it is applied. */
    public boolean stops() {
      return this == GAP || this == INVALID;
    }
  }

  /**
   * The verdict on one line.
   *
   * @param error the error for {@code GAP} and {@code INVALID}; {@code null} otherwise
   */
  public record Decision(ParsedLine line, Verdict verdict, FeedError error) {
    public Decision {
      Objects.requireNonNull(line, "line");
      Objects.requireNonNull(verdict, "verdict");
    }

    /** The event to apply, when the verdict is {@code APPLY}. */
    public Optional<FeedEvent> toApply() {
      return verdict == Verdict.APPLY ? line.event() : Optional.empty();
    }
  }

  /**
   * What a request achieved: what the service replies to the provider.
   *
   * @param lastApplied the provider resumes with {@code lastApplied + 1}
   * @param error the error that stopped the request, if any
   */
  public record Outcome(
      long lastApplied, long applied, long duplicates, Optional<FeedError> error) {}

  private long lastApplied;
  private long applied;
  private long duplicates;
  private FeedError stoppedBy;

  /** A gate for a provider whose last applied sequence number is {@code lastApplied}. */
  public SequenceGate(long lastApplied) {
    if (lastApplied < 0) {
      throw new IllegalArgumentException("lastApplied must be >= 0: lastApplied=" + lastApplied);
    }
    this.lastApplied = lastApplied;
  }

  /** Decides on the next line of the request. */
  public Decision admit(ParsedLine line) {
    if (stoppedBy != null) {
      return new Decision(line, Verdict.CLOSED, null);
    }
    if (line.result() instanceof FeedError error) {
      stoppedBy = error;
      return new Decision(line, Verdict.INVALID, error);
    }
    long seq = ((FeedEvent) line.result()).seq();
    if (seq <= lastApplied) {
      duplicates++;
      return new Decision(line, Verdict.DUPLICATE, null);
    }
    if (seq > lastApplied + 1) {
      stoppedBy =
          new FeedError(
              line.line(),
              "seq",
              "must be "
                  + (lastApplied + 1)
                  + ", the next after the last applied "
                  + lastApplied
                  + ": got "
                  + seq
                  + ", a gap");
      return new Decision(line, Verdict.GAP, stoppedBy);
    }
    lastApplied = seq;
    applied++;
    return new Decision(line, Verdict.APPLY, null);
  }

  public long lastApplied() {
    return lastApplied;
  }

  public Outcome outcome() {
    return new Outcome(lastApplied, applied, duplicates, Optional.ofNullable(stoppedBy));
  }

  /**
   * The rules as a stream stage: a fresh gate per materialization, emitting each decision and
   * completing right after the first decision that {@linkplain Verdict#stops() stops} the request,
   * which cancels the rest of the body.
   */
  public static Flow<ParsedLine, Decision, NotUsed> flow(long lastApplied) {
    return Flow.<ParsedLine>create()
        .<SequenceGate, Decision>statefulMap(
            () -> new SequenceGate(lastApplied),
            (gate, line) -> Pair.create(gate, gate.admit(line)),
            gate -> Optional.empty())
        .takeWhile(d -> !d.verdict().stops(), true);
  }
}
