package io.surplus.market.markets;

import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.pubsub.Topic;

/**
 * This node's one instance of each cluster-wide topic the markets publish on, shared by the markets
 * hosted here (publishers) and the streams and views served here (subscribers). A topic instance
 * delivers a publication to its own subscribers at once and to the other instances it has learnt of
 * through the receptionist; sharing one per node means a subscriber here never waits on that
 * discovery for a market that runs here, so a subscription is live as soon as its topic has taken
 * it.
 */
public record MarketTopics(
    ActorRef<Topic.Command<Market.EpochPublished>> epochs,
    ActorRef<Topic.Command<Market.RevocationPublished>> revocations,
    ActorRef<Topic.Command<Market.LeaseNoticePublished>> leaseNotices,
    ActorRef<Topic.Command<Market.ViewPublished>> views) {

  /** Starts this node's topic instances; once per actor system. */
  public static MarketTopics start(ActorSystem<?> system) {
    return new MarketTopics(
        system.systemActorOf(Market.epochTopic(), "topic-market-epochs", Props.empty()),
        system.systemActorOf(Market.revocationTopic(), "topic-market-revocations", Props.empty()),
        system.systemActorOf(Market.leaseNoticeTopic(), "topic-lease-notices", Props.empty()),
        system.systemActorOf(Market.viewTopic(), "topic-market-views", Props.empty()));
  }
}
