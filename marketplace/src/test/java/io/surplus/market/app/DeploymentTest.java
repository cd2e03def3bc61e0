package io.surplus.market.app;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The environment's lists become configuration lists; nothing set leaves the defaults. */
class DeploymentTest {

  static final Config BASE =
      ConfigFactory.parseString(
          "pekko.cluster.seed-nodes = []\n"
              + "datastax-java-driver.basic.contact-points = [\"127.0.0.1:9142\"]");

  @Test
  void shouldReadSeedNodesAndContactPointsAsLists() {
    Config c =
        Deployment.of(
            Map.of(
                Deployment.SEED_NODES,
                "pekko://surplus@10.0.0.1:25520, pekko://surplus@10.0.0.2:25520,",
                Deployment.CONTACT_POINTS,
                "10.0.1.1:9042,10.0.1.2:9042"),
            BASE);
    assertEquals(
        List.of("pekko://surplus@10.0.0.1:25520", "pekko://surplus@10.0.0.2:25520"),
        c.getStringList("pekko.cluster.seed-nodes"));
    assertEquals(
        List.of("10.0.1.1:9042", "10.0.1.2:9042"),
        c.getStringList("datastax-java-driver.basic.contact-points"));
  }

  @Test
  void shouldKeepTheDefaultsWhenNothingIsSet() {
    Config c = Deployment.of(Map.of(Deployment.SEED_NODES, " "), BASE);
    assertEquals(List.of(), c.getStringList("pekko.cluster.seed-nodes"));
    assertEquals(
        List.of("127.0.0.1:9142"), c.getStringList("datastax-java-driver.basic.contact-points"));
  }
}
