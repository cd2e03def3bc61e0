package io.surplus.feed.drive;

import io.surplus.engine.RevocationKind;
import io.surplus.feed.protocol.FeedEvent;
import io.surplus.feed.protocol.Heartbeat;
import io.surplus.feed.protocol.WindowExtended;
import io.surplus.feed.protocol.WindowOpened;
import io.surplus.feed.protocol.WindowRevoked;
import io.surplus.feed.sim.SimEvent;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The simulator's feed events re-expressed in real time and put in the order, and at the real
 * instants, a driver sends them. Each event's instants are mapped with a {@link TimeMapping}, its
 * notice shrunk by the speed, and its window id prefixed so that a second run against the same
 * service does not reuse the first run's ids. Sequence numbers are the driver's to assign when it
 * sends, so every event here carries the placeholder {@code seq} 1.
 *
 * <p>An event is due at the real instant of its simulated send time, except that:
 *
 * <ul>
 *   <li>a {@code window.opened} is not due before its end is within the market's horizon;
 *   <li>a planned {@code window.revoked} is due {@code safetyMillis} before the last instant that
 *       still keeps the window's (shrunk, rounded) notice, if that comes earlier: at high speeds
 *       the rounded notice can exceed the shrunk schedule;
 *   <li>no event of a window is due before the window's opening. Other events of one window may
 *       overtake each other (a spare called in ahead of a maintenance announced earlier): the nodes
 *       they take back add up the same in any order.
 * </ul>
 */
final class FeedSchedule {

  /**
   * One event to send.
   *
   * @param dueMillis real epoch milliseconds at which it is due
   * @param event the event in real time, {@code seq} 1
   * @param source the simulator's event it comes from
   * @param noticeDeadlineMillis for a planned revocation, the last real instant at which sending it
   *     still keeps the window's notice; {@link Long#MAX_VALUE} for any other event
   */
  record Entry(long dueMillis, FeedEvent event, SimEvent source, long noticeDeadlineMillis) {

    String windowId() {
      return FeedSchedule.windowId(event);
    }
  }

  private FeedSchedule() {}

  static List<Entry> build(
      List<SimEvent> events,
      TimeMapping map,
      String windowIdPrefix,
      long horizonMillis,
      long safetyMillis) {
    Map<String, Integer> notice = new HashMap<>();
    Map<String, Long> openedDue = new HashMap<>();
    List<Entry> out = new ArrayList<>(events.size());
    for (SimEvent se : events) {
      FeedEvent e = toReal(se.event(), map, windowIdPrefix);
      String id = windowId(e);
      long due = map.toRealMillis(se.at());
      long deadline = Long.MAX_VALUE;
      if (e instanceof WindowOpened o) {
        notice.put(id, o.noticeSeconds());
        due = Math.max(due, o.end().toEpochMilli() - horizonMillis);
      } else if (e instanceof WindowRevoked r
          && r.kind() == RevocationKind.PLANNED
          && notice.containsKey(id)) {
        deadline = r.at().toEpochMilli() - notice.get(id) * 1000L;
        due = Math.min(due, deadline - safetyMillis);
      }
      Long opened = openedDue.putIfAbsent(id, due);
      if (opened != null) {
        due = Math.max(due, opened);
      }
      out.add(new Entry(due, e, se, deadline));
    }
    // Stable: events due at the same instant keep the simulator's order.
    out.sort(Comparator.comparingLong(Entry::dueMillis));
    return out;
  }

  /** {@code e} with its instants mapped to real time, its notice shrunk, its window id prefixed. */
  static FeedEvent toReal(FeedEvent e, TimeMapping map, String windowIdPrefix) {
    if (e instanceof WindowOpened o) {
      return new WindowOpened(
          1,
          windowIdPrefix + o.windowId(),
          o.gpuModel(),
          o.pool(),
          o.region(),
          o.nodes(),
          o.gpusPerNode(),
          map.toReal(o.start()),
          map.toReal(o.end()),
          o.reservePrice(),
          map.noticeSeconds(o.noticeSeconds()),
          o.confidencePpm());
    }
    if (e instanceof WindowExtended x) {
      return new WindowExtended(1, windowIdPrefix + x.windowId(), map.toReal(x.end()));
    }
    if (e instanceof WindowRevoked r) {
      return new WindowRevoked(
          1,
          windowIdPrefix + r.windowId(),
          r.kind(),
          map.toReal(r.at()),
          r.nodes(),
          r.end().map(map::toReal));
    }
    throw new IllegalArgumentException("the simulator sends no " + e.type() + ": " + e);
  }

  /** {@code e} with sequence number {@code seq}. */
  static FeedEvent withSeq(FeedEvent e, long seq) {
    if (e instanceof WindowOpened o) {
      return new WindowOpened(
          seq,
          o.windowId(),
          o.gpuModel(),
          o.pool(),
          o.region(),
          o.nodes(),
          o.gpusPerNode(),
          o.start(),
          o.end(),
          o.reservePrice(),
          o.noticeSeconds(),
          o.confidencePpm());
    }
    if (e instanceof WindowExtended x) {
      return new WindowExtended(seq, x.windowId(), x.end());
    }
    if (e instanceof WindowRevoked r) {
      return new WindowRevoked(seq, r.windowId(), r.kind(), r.at(), r.nodes(), r.end());
    }
    return new Heartbeat(seq, ((Heartbeat) e).at());
  }

  /** A planned revocation sent too late to keep its notice, as the emergency it has become. */
  static WindowRevoked asEmergency(WindowRevoked r) {
    return new WindowRevoked(
        r.seq(), r.windowId(), RevocationKind.EMERGENCY, r.at(), r.nodes(), r.end());
  }

  /** The window an event concerns, or {@code null} for a heartbeat. */
  static String windowId(FeedEvent e) {
    if (e instanceof WindowOpened o) {
      return o.windowId();
    }
    if (e instanceof WindowExtended x) {
      return x.windowId();
    }
    if (e instanceof WindowRevoked r) {
      return r.windowId();
    }
    return null;
  }
}
