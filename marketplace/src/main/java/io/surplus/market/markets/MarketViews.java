package io.surplus.market.markets;

import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.pubsub.Topic;

/**
 * This node's copy of what the public reads of every market: the latest {@link
 * Market.ViewPublished} of each, rendered once into the bytes the routes send. A subscriber on the
 * cluster-wide view topic keeps it current, so reads of depth, the market list and the capacity
 * timeline cost a map lookup, never an ask to a market, on any node, however full the book.
 */
public final class MarketViews {

  /**
   * One market's view as the routes send it: its line in the market list, its book and its capacity
   * timeline as JSON, and the entity tag that names this rendering.
   */
  public record Rendered(
      long epoch, long atMillis, byte[] summary, byte[] book, byte[] windows, String etag) {}

  private final ConcurrentHashMap<String, Rendered> latest = new ConcurrentHashMap<>();

  private MarketViews() {}

  /**
   * Subscribes this node to every market's view; {@code render} turns each into its bytes (on the
   * subscriber's thread, once per publication).
   */
  public static MarketViews start(
      ActorSystem<?> system,
      ActorRef<Topic.Command<Market.ViewPublished>> topic,
      Function<Market.ViewPublished, Rendered> render) {
    MarketViews views = new MarketViews();
    system.systemActorOf(views.subscriber(topic, render), "market-views", Props.empty());
    return views;
  }

  /** The latest view of {@code model}, or null before its market has published one. */
  public Rendered get(String model) {
    return latest.get(model);
  }

  private Behavior<Market.ViewPublished> subscriber(
      ActorRef<Topic.Command<Market.ViewPublished>> topic,
      Function<Market.ViewPublished, Rendered> render) {
    return Behaviors.setup(
        ctx -> {
          topic.tell(Topic.subscribe(ctx.getSelf()));
          return Behaviors.receiveMessage(
              v -> {
                Rendered current = latest.get(v.gpuModel());
                // after a market moves between nodes, an older publication may come late
                if (current == null || v.atMillis() >= current.atMillis()) {
                  latest.put(v.gpuModel(), render.apply(v));
                }
                return Behaviors.same();
              });
        });
  }
}
