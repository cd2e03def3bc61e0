package io.surplus.market.stream;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.surplus.market.http.Json;
import io.surplus.market.markets.Market;
import io.surplus.market.markets.MarketTopics;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiFunction;
import java.util.function.LongSupplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.StashBuffer;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.http.javadsl.model.ws.Message;
import org.apache.pekko.http.javadsl.model.ws.TextMessage;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.QueueOfferResult;

/**
 * This node's one subscriber to the market topics on behalf of every {@code /v1/stream} it serves.
 * Each event is rendered to JSON once, into one immutable {@link TextMessage}, and that same
 * message is offered to the bounded queue of each stream that wants it: streams are indexed by
 * market (and token streams by account), so an epoch costs one render and one offer per interested
 * stream, never a render per stream.
 *
 * <p>Promises: a stream is told {@code subscribed} only once this actor's topic subscriptions are
 * in place, and from its join on it gets every later event it wants, in order, or is closed: an
 * offer never waits, and a stream whose queue is full ({@code surplus.stream.client-buffer}
 * messages unread) is cut off at once, with its close reason set ({@code 1008}), so a client that
 * stops reading costs the others nothing and never silently loses a message. The same holds for the
 * rare event that cannot be rendered (its streams are closed with {@code 1011}) and for the node
 * shutting down (every stream is closed with {@code 1001}).
 *
 * <p>Heartbeats come from here too, on one timer for every stream: a stream sent nothing for two
 * thirds of the heartbeat period is sent {@code {"type":"heartbeat"}} at the next of the ticks a
 * third of a period apart, so no stream is silent for longer than the period (and the timer's
 * lateness). A per-stream idle timer cost each delivery a timer cancelled and another scheduled.
 */
public final class StreamFanOut {

  /** What the fan-out is told: a stream joins or leaves, a topic delivers, the topics are ready. */
  public interface Command {}

  /** What an offer to a stream came to. */
  public enum Offered {
    /** Queued: it goes out after what the stream was sent before. */
    ENQUEUED,
    /** The stream's buffer is full: its client has not read its last messages. */
    FULL,
    /** The stream has ended. */
    GONE
  }

  /**
   * Where a stream's messages go: a Pekko stream's bounded queue ({@code /v1/stream} on the API's
   * port) or a market-data channel ({@link MarketDataServer}). Called from the fan-out's actor
   * only.
   */
  public interface Outlet {
    /** Queues {@code m} without waiting. */
    Offered offer(Rendered m);

    /**
     * Ends the stream once what it was sent has gone out, with the subscriber's close when one is
     * set; a stream that has ended already may throw {@link IllegalStateException}.
     */
    void complete();
  }

  /** An event rendered once, as every kind of stream sends it: a Pekko message, and its bytes. */
  public static final class Rendered {
    private final String text;
    private final Message message;
    private final ByteBuf bytes;

    public Rendered(String text) {
      this.text = text;
      this.message = TextMessage.create(text);
      // one read-only buffer that every channel's frame shares (a duplicate each), never freed
      this.bytes =
          Unpooled.unreleasableBuffer(
              Unpooled.wrappedBuffer(text.getBytes(StandardCharsets.UTF_8)).asReadOnly());
    }

    public String text() {
      return text;
    }

    /** The Pekko message: immutable, shared by every stream. */
    public Message message() {
      return message;
    }

    /** The UTF-8 bytes: a duplicate of the shared buffer, for one channel's frame. */
    public ByteBuf bytes() {
      return bytes.duplicate();
    }
  }

  /** A Pekko stream's bounded queue as an outlet. */
  static Outlet of(BoundedSourceQueue<Message> queue) {
    return new Outlet() {
      @Override
      public Offered offer(Rendered m) {
        QueueOfferResult r = queue.offer(m.message());
        if (r == QueueOfferResult.enqueued()) {
          return Offered.ENQUEUED;
        }
        return r == QueueOfferResult.dropped() ? Offered.FULL : Offered.GONE;
      }

      @Override
      public void complete() {
        queue.complete();
      }
    };
  }

  /**
   * An open stream: the markets it follows, the account whose lease notices it gets ({@code <= 0}:
   * none), its outlet, and where the close code and reason go when the fan-out cuts it off. Two
   * streams are never equal, however alike. Only the fan-out's actor reads and writes when it was
   * last sent something.
   */
  public static final class Subscriber {
    private final Set<String> markets;
    private final List<String> followed;
    private final long account;
    private final Outlet outlet;
    private final AtomicReference<ClosingWebSocket.Close> close;
    private long lastSentNanos;

    public Subscriber(
        Set<String> markets,
        List<String> followed,
        long account,
        Outlet outlet,
        AtomicReference<ClosingWebSocket.Close> close) {
      this.markets = markets;
      this.followed = followed;
      this.account = account;
      this.outlet = outlet;
      this.close = close;
    }

    /** A stream of Pekko HTTP's, fed through {@code queue}. */
    public Subscriber(
        Set<String> markets,
        List<String> followed,
        long account,
        BoundedSourceQueue<Message> queue,
        AtomicReference<ClosingWebSocket.Close> close) {
      this(markets, followed, account, of(queue), close);
    }

    public Set<String> markets() {
      return markets;
    }

    public List<String> followed() {
      return followed;
    }

    public long account() {
      return account;
    }

    public Outlet outlet() {
      return outlet;
    }

    public AtomicReference<ClosingWebSocket.Close> close() {
      return close;
    }
  }

  /** A stream opens: it is sent {@code subscribed}, then every event it wants. */
  public record Join(Subscriber subscriber) implements Command {}

  /** A stream ended (the client left, or it was cut off). */
  public record Leave(Subscriber subscriber) implements Command {}

  private record Published(Object event) implements Command {}

  /** The next share of the deliveries under way. */
  private enum Continue implements Command {
    INSTANCE
  }

  /** Time to send a heartbeat to the streams that have been idle (the timer's, or a test's). */
  enum Heartbeat implements Command {
    INSTANCE
  }

  /** What a stream is sent when its markets have been quiet, rendered once. */
  static final Rendered HEARTBEAT_MESSAGE = new Rendered("{\"type\":\"heartbeat\"}");

  /**
   * How an event reaches many streams: {@code chunk} streams at a time, {@code pause} between two
   * shares. A thousand streams' writes at once hold the node's dispatcher for tens of milliseconds,
   * and every request that arrives meanwhile waits behind them; shares of {@code chunk} let the
   * requests in between. {@code chunk <= 0}: every stream at once.
   */
  public record Pacing(int chunk, Duration pause) {

    public static final Pacing AT_ONCE = new Pacing(0, Duration.ZERO);

    public Pacing {
      if (pause.isNegative()) {
        throw new IllegalArgumentException("pause must not be negative: " + pause);
      }
    }
  }

  /**
   * One event's delivery: the message, the streams it goes to (as of its publication), the next.
   */
  private static final class Delivery {
    final Rendered message;
    final Subscriber[] to;
    int next;

    Delivery(Rendered message, Subscriber[] to) {
      this.message = message;
      this.to = to;
    }
  }

  private record TopicTaken(String topic, boolean ok) implements Command {}

  /** How long this actor waits for a topic to confirm its subscription before it asks again. */
  static final Duration SUBSCRIBE_TIMEOUT = Duration.ofSeconds(10);

  /** Joins waiting for the topic subscriptions at start; more than that is a flood. */
  static final int STASH = 10_000;

  /** The close of a stream cut off for not reading. */
  static ClosingWebSocket.Close tooSlow(int buffered) {
    return new ClosingWebSocket.Close(
        ClosingWebSocket.TOO_SLOW, "client too slow: " + buffered + " messages behind");
  }

  /** The close of every stream when this node's fan-out stops (the node shuts down). */
  static final ClosingWebSocket.Close GOING_AWAY =
      new ClosingWebSocket.Close(ClosingWebSocket.GOING_AWAY, "server shutting down");

  /** The close of the streams an event could not be rendered for: they would miss it. */
  static final ClosingWebSocket.Close UNRENDERED =
      new ClosingWebSocket.Close(ClosingWebSocket.UNEXPECTED, "server error: an event was lost");

  /** The meters of the fan-out (the registry's names get {@code surplus_} prefixes). */
  static final class Meters {
    final AtomicInteger subscribers = new AtomicInteger();
    final Counter rendered;
    final Counter cutOff;
    final Timer epochLag;

    Meters(MeterRegistry registry) {
      Gauge.builder("surplus.stream.subscribers", subscribers, AtomicInteger::get)
          .description("open /v1/stream connections on this node")
          .register(registry);
      rendered =
          Counter.builder("surplus.stream.rendered")
              .description("events rendered to JSON for the streams, once each for all of them")
              .register(registry);
      cutOff =
          Counter.builder("surplus.stream.closed.too.slow")
              .description("streams closed because their client stopped reading (buffer full)")
              .register(registry);
      epochLag =
          Timer.builder("surplus.stream.epoch.lag")
              .description(
                  "from an epoch's cut to its message being queued for this node's streams: the"
                      + " service's share of a subscriber's lag (clearing, writes, the topic)")
              .publishPercentiles(0.5, 0.99)
              .register(registry);
    }
  }

  private final ActorContext<Command> context;
  private final BiFunction<List<String>, Map<String, Long>, String> subscribed;
  private final int buffer;
  private final Meters meters;
  private final Pacing pacing;
  private final long idleNanos;
  private final LongSupplier nanoClock;

  /** Deliveries under way, oldest first: each stream gets its events in publication order. */
  private final java.util.ArrayDeque<Delivery> deliveries = new java.util.ArrayDeque<>();

  private final Map<String, List<Subscriber>> byMarket = new HashMap<>();
  private final Map<Long, List<Subscriber>> byAccount = new HashMap<>();

  /** The latest epoch of each market that has passed through here: what {@code subscribed} says. */
  private final Map<String, Long> lastEpochs = new HashMap<>();

  private StreamFanOut(
      ActorContext<Command> context,
      BiFunction<List<String>, Map<String, Long>, String> subscribed,
      int buffer,
      Meters meters,
      Pacing pacing,
      Duration heartbeat,
      LongSupplier nanoClock) {
    this.context = context;
    this.subscribed = subscribed;
    this.buffer = buffer;
    this.meters = meters;
    this.pacing = pacing;
    this.idleNanos = heartbeat.toNanos() / 3 * 2;
    this.nanoClock = nanoClock;
  }

  /**
   * The fan-out of one node: subscribes to {@code topics}, stashes joins until every topic has
   * confirmed, then serves. {@code subscribed} renders a stream's first message from the markets it
   * follows and the latest epoch of each market this fan-out has passed on (so the first epoch the
   * stream gets is the next one); {@code buffer} is each stream's queue size; {@code pacing} how an
   * event reaches many streams; {@code heartbeat} the longest a stream stays silent.
   */
  public static Behavior<Command> create(
      MarketTopics topics,
      BiFunction<List<String>, Map<String, Long>, String> subscribed,
      int buffer,
      MeterRegistry registry,
      Pacing pacing,
      Duration heartbeat) {
    return create(
        topics,
        subscribed,
        buffer,
        registry,
        pacing,
        heartbeat,
        heartbeat.dividedBy(3),
        System::nanoTime);
  }

  /**
   * As above, with heartbeat ticks {@code tick} apart and the time read from {@code nanoClock}: a
   * test's clock and ticks of its own make the heartbeats deterministic.
   */
  static Behavior<Command> create(
      MarketTopics topics,
      BiFunction<List<String>, Map<String, Long>, String> subscribed,
      int buffer,
      MeterRegistry registry,
      Pacing pacing,
      Duration heartbeat,
      Duration tick,
      LongSupplier nanoClock) {
    if (heartbeat.isNegative() || heartbeat.isZero() || tick.isNegative() || tick.isZero()) {
      throw new IllegalArgumentException(
          "the heartbeat and its tick must be positive: " + heartbeat + ", " + tick);
    }
    return Behaviors.withStash(
        STASH,
        stash ->
            Behaviors.setup(
                context ->
                    Behaviors.withTimers(
                        timers -> {
                          ActorRef<Object> events =
                              context.messageAdapter(Object.class, Published::new);
                          subscribe(context, "epochs", topics.epochs(), events.narrow());
                          subscribe(context, "revocations", topics.revocations(), events.narrow());
                          subscribe(
                              context, "lease-notices", topics.leaseNotices(), events.narrow());
                          timers.startTimerWithFixedDelay(Heartbeat.INSTANCE, tick);
                          return new StreamFanOut(
                                  context,
                                  subscribed,
                                  buffer,
                                  new Meters(registry),
                                  pacing,
                                  heartbeat,
                                  nanoClock)
                              .starting(stash, topics, events, new HashMap<>());
                        })));
  }

  /**
   * Subscribes to {@code topic} and asks it for its stats: a topic handles its messages in order,
   * so its answer means the subscription is in place.
   */
  private static <T> void subscribe(
      ActorContext<Command> context,
      String name,
      ActorRef<Topic.Command<T>> topic,
      ActorRef<T> subscriber) {
    topic.tell(Topic.subscribe(subscriber));
    context.ask(
        Topic.TopicStats.class,
        topic,
        SUBSCRIBE_TIMEOUT,
        Topic::getTopicStats,
        (stats, failure) -> new TopicTaken(name, failure == null));
  }

  private Behavior<Command> starting(
      StashBuffer<Command> stash,
      MarketTopics topics,
      ActorRef<Object> events,
      Map<String, Boolean> taken) {
    return Behaviors.receive(Command.class)
        .onMessage(
            TopicTaken.class,
            t -> {
              if (!t.ok()) {
                context
                    .getLog()
                    .warn("the {} topic did not confirm in time; asking again", t.topic());
                switch (t.topic()) {
                  case "epochs" -> subscribe(context, t.topic(), topics.epochs(), events.narrow());
                  case "revocations" ->
                      subscribe(context, t.topic(), topics.revocations(), events.narrow());
                  default -> subscribe(context, t.topic(), topics.leaseNotices(), events.narrow());
                }
                return Behaviors.same();
              }
              taken.put(t.topic(), true);
              return taken.size() == 3 ? stash.unstashAll(serving()) : Behaviors.same();
            })
        .onMessage(
            Published.class,
            p -> {
              publish(p.event()); // no stream has joined yet: nobody wants it
              return Behaviors.same();
            })
        .onMessage(Heartbeat.class, h -> Behaviors.same()) // no stream yet
        .onAnyMessage(
            m -> {
              stash.stash(m);
              return Behaviors.same();
            })
        .build();
  }

  private Behavior<Command> serving() {
    return Behaviors.receive(Command.class)
        .onMessage(Published.class, p -> same(() -> publish(p.event())))
        .onMessage(Continue.class, c -> same(this::deliver))
        .onMessage(Heartbeat.class, h -> same(this::heartbeat))
        .onMessage(Join.class, j -> same(() -> join(j.subscriber())))
        .onMessage(Leave.class, l -> same(() -> leave(l.subscriber())))
        .onMessage(TopicTaken.class, t -> Behaviors.same())
        .onSignal(PostStop.class, s -> same(() -> closeAll(GOING_AWAY)))
        .build();
  }

  private static Behavior<Command> same(Runnable r) {
    r.run();
    return Behaviors.same();
  }

  private void join(Subscriber s) {
    // first the stream's own first message, then (in this actor's order) every later event
    if (s.outlet().offer(new Rendered(subscribed.apply(s.followed(), lastEpochs)))
        != Offered.ENQUEUED) {
      return; // the stream is already gone
    }
    s.lastSentNanos = nanoClock.getAsLong();
    for (String m : s.markets()) {
      byMarket.computeIfAbsent(m, k -> new ArrayList<>()).add(s);
    }
    if (s.account() > 0) {
      byAccount.computeIfAbsent(s.account(), k -> new ArrayList<>()).add(s);
    }
    meters.subscribers.incrementAndGet();
  }

  private void leave(Subscriber s) {
    boolean was = false;
    for (String m : s.markets()) {
      List<Subscriber> l = byMarket.get(m);
      was |= l != null && l.remove(s);
    }
    if (s.account() > 0) {
      List<Subscriber> l = byAccount.get(s.account());
      if (l != null) {
        l.remove(s);
        if (l.isEmpty()) {
          byAccount.remove(s.account());
        }
      }
    }
    if (was) {
      meters.subscribers.decrementAndGet();
    }
  }

  /** Closes {@code s} with {@code close} once what it was sent has gone out, and lets go of it. */
  private void cut(Subscriber s, ClosingWebSocket.Close close) {
    end(s, close);
    leave(s);
  }

  /** Sets {@code s}'s close and completes its queue, so what it was sent goes out first. */
  private static void end(Subscriber s, ClosingWebSocket.Close close) {
    s.close().set(close);
    try {
      s.outlet().complete();
    } catch (IllegalStateException ended) {
      // the stream ended first (its Leave is on the way): nothing is left to close, and the
      // other streams still are (at shutdown, closeAll would otherwise stop at this one)
    }
  }

  private void closeAll(ClosingWebSocket.Close close) {
    List<Subscriber> all = new ArrayList<>();
    byMarket.values().forEach(all::addAll);
    all.stream().distinct().forEach(s -> cut(s, close));
  }

  private void publish(Object e) {
    List<Subscriber> to;
    if (e instanceof Market.EpochPublished p) {
      lastEpochs.merge(p.gpuModel(), p.epoch(), Math::max);
      to = byMarket.get(p.gpuModel());
      meters.epochLag.record(
          Math.max(0, System.currentTimeMillis() - p.atMillis()), TimeUnit.MILLISECONDS);
    } else if (e instanceof Market.RevocationPublished r) {
      to = byMarket.get(r.gpuModel());
    } else if (e instanceof Market.LeaseNoticePublished n) {
      to = byAccount.get(n.cut().lease().account());
    } else {
      return;
    }
    if (to == null || to.isEmpty()) {
      return;
    }
    Rendered m;
    try {
      m = new Rendered(Json.write(StreamRoutes.message(e)));
    } catch (RuntimeException failure) {
      // a stream that would silently miss this event is closed instead, and this actor goes on
      context.getLog().error("could not render {} for the streams", e, failure);
      new ArrayList<>(to).forEach(s -> cut(s, UNRENDERED));
      return;
    }
    meters.rendered.increment();
    boolean idle = deliveries.isEmpty();
    deliveries.add(new Delivery(m, to.toArray(new Subscriber[0])));
    if (idle) {
      deliver();
    }
  }

  /**
   * Sends the heartbeat to every stream that has been sent nothing for {@link #idleNanos}. A stream
   * that refuses it (gone, or full) is let go as a delivery would let it go.
   */
  private void heartbeat() {
    long now = nanoClock.getAsLong();
    Set<Subscriber> seen = new java.util.HashSet<>(); // a stream of several markets, once
    List<Subscriber> gone = new ArrayList<>();
    for (List<Subscriber> streams : byMarket.values()) {
      for (Subscriber s : streams) {
        if (seen.add(s)
            && now - s.lastSentNanos >= idleNanos
            && !offer(s, HEARTBEAT_MESSAGE, now)) {
          gone.add(s);
        }
      }
    }
    gone.forEach(this::leave);
  }

  /**
   * Offers {@code m} to {@code s}: false when {@code s} is gone, or had read none of its last
   * {@code buffer} messages and is cut off now (it has missed nothing so far, and will miss nothing
   * silently: what it was sent still goes out before the close frame). Either way it is to be let
   * go.
   */
  private boolean offer(Subscriber s, Rendered m, long now) {
    Offered r = s.outlet().offer(m);
    if (r == Offered.ENQUEUED) {
      s.lastSentNanos = now;
      return true;
    }
    if (r == Offered.FULL) {
      end(s, tooSlow(buffer));
      meters.cutOff.increment();
    }
    return false;
  }

  /**
   * Offers the oldest delivery's next share (all of it when not paced), then asks for the next
   * share after the pause. A stream that left meanwhile refuses the offer and is let go again.
   */
  private void deliver() {
    Delivery d = deliveries.peek();
    if (d == null) {
      return;
    }
    int end = pacing.chunk() <= 0 ? d.to.length : Math.min(d.to.length, d.next + pacing.chunk());
    List<Subscriber> gone = null;
    long now = nanoClock.getAsLong();
    for (int i = d.next; i < end; i++) {
      Subscriber s = d.to[i];
      if (offer(s, d.message, now)) {
        continue;
      }
      if (gone == null) {
        gone = new ArrayList<>(1);
      }
      gone.add(s);
    }
    if (gone != null) {
      gone.forEach(this::leave);
    }
    d.next = end;
    if (end == d.to.length) {
      deliveries.poll();
    }
    if (deliveries.isEmpty()) {
      return;
    }
    if (pacing.pause().isZero()) {
      context.getSelf().tell(Continue.INSTANCE);
    } else {
      // the JDK's delay thread, not Pekko's scheduler: its 10 ms tick would stretch the pauses;
      // and the tell on that thread itself, not handed to the common pool (the default), whose
      // two threads anything in the JVM may hold: a delivery then waited seconds for its next share
      ActorRef<Command> self = context.getSelf();
      java.util.concurrent.CompletableFuture.delayedExecutor(
              pacing.pause().toNanos(), TimeUnit.NANOSECONDS, Runnable::run)
          .execute(() -> self.tell(Continue.INSTANCE));
    }
  }
}
