package io.surplus.market.app;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The settings of a deployment that are lists, read from the environment (HOCON's {@code ${?VAR}}
 * gives a string, never a list). docs/DEPLOY.md lists every variable.
 */
final class Deployment {

  /** Seed nodes of the Pekko Cluster: {@code pekko://surplus@host:port}, comma-separated. */
  static final String SEED_NODES = "SURPLUS_SEED_NODES";

  /** Cassandra contact points: {@code host:port}, comma-separated. */
  static final String CONTACT_POINTS = "SURPLUS_CASSANDRA_CONTACT_POINTS";

  private Deployment() {}

  /**
   * The configuration a service process runs with: the environment's lists over {@code base}. (The
   * process ends once its actor system has stopped, so a node the Split Brain Resolver downed, or
   * one that left, exits: see {@link SurplusMain}.)
   */
  static Config of(Map<String, String> env, Config base) {
    Config overrides = ConfigFactory.empty();
    List<String> seeds = list(env.get(SEED_NODES));
    if (!seeds.isEmpty()) {
      overrides =
          overrides.withValue("pekko.cluster.seed-nodes", ConfigValueFactory.fromIterable(seeds));
    }
    List<String> contactPoints = list(env.get(CONTACT_POINTS));
    if (!contactPoints.isEmpty()) {
      overrides =
          overrides.withValue(
              "datastax-java-driver.basic.contact-points",
              ConfigValueFactory.fromIterable(contactPoints));
    }
    return overrides.withFallback(base);
  }

  /** A comma-separated list, blanks dropped; none for null. */
  static List<String> list(String value) {
    if (value == null) {
      return List.of();
    }
    return Arrays.stream(value.split(",")).map(String::strip).filter(s -> !s.isEmpty()).toList();
  }
}
