package io.surplus.market.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.ConsistencyLevel;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.microsoft.playwright.Browser;
import com.microsoft.playwright.BrowserType;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.Playwright;
import io.surplus.engine.SlotClock;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Fault tests against a real cluster ({@link LocalCluster}): three Cassandra nodes (127.0.0.1-3,
 * replication factor 3, QUORUM) and three service JVMs in one Pekko Cluster, started once for the
 * class. Under a steady bid load spread over the nodes ({@link BidLoad}), one process at a time is
 * killed, stopped, frozen; each test then checks that every acknowledged bid is found, that no
 * client saw a {@code 5xx} other than {@code 503} with {@code Retry-After}, and that the market's
 * journal has no gap and no fork (each writer's events form one run of sequence numbers). No timing
 * is asserted: the figures (failover times, {@code 503}s) are printed and kept in {@code
 * target/cluster-figures.txt} for docs/DEPLOY.md.
 */
@Tag("cluster")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterFaultTest {

  static final String H100 = "H100-SXM-80GB";
  static final ObjectMapper JSON = new ObjectMapper();
  static final Duration LONG = Duration.ofMinutes(3);

  LocalCluster cluster;
  String bidderKey;
  CqlSession cql;
  final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  final boolean[] up = {true, true, true};
  final List<String> figures = new ArrayList<>();

  @BeforeAll
  void start() throws Exception {
    Path home = Path.of("target", "cluster-test").toAbsolutePath();
    io.surplus.market.cassandra.TestCassandra.deleteTree(home);
    String classpath =
        "target/classes:"
            + Files.readString(Path.of(System.getProperty("surplus.service.classpath-file")))
                .strip();
    String cassandraClasspath =
        Files.readString(Path.of(System.getProperty("surplus.cassandra.classpath-file"))).strip();
    LocalCluster.Layout layout =
        new LocalCluster.Layout(
            home,
            9342,
            7300,
            "512m",
            18080,
            25620,
            18558,
            "384m",
            classpath,
            Map.of("SURPLUS_SBR_STABLE_AFTER", "5s"));
    cluster = new LocalCluster(layout, cassandraClasspath);
    long started = System.nanoTime();
    cluster.startAll("--demo-accounts");
    figures.add(
        "cluster started (3 Cassandra nodes, 3 services) in "
            + TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started)
            + " s");
    bidderKey = demoKeys().getProperty("bidder");
    cql = cluster.session();
  }

  @AfterAll
  void stop() throws IOException {
    figures.forEach(f -> System.out.println("cluster figures: " + f));
    Files.write(Path.of("target", "cluster-figures.txt"), figures);
    if (cql != null) {
      cql.close();
    }
    if (cluster != null) {
      cluster.close();
    }
  }

  // ------------------------------------------------------------------ the faults

  @Test
  @Order(1)
  void shouldResumeTheMarketOnASurvivorWhenItsServiceNodeIsKilled() throws Exception {
    int host = marketHost();
    try (BidLoad load = load("lost")) {
      load.start(40);
      load.awaitAcks(100, LONG);
      long killedAt = System.nanoTime();
      up[host] = false;
      cluster.killService(host);
      // the market runs again on a node that survived, recovered from its journal
      await(
          () -> {
            Map<String, String> h = marketHealth(firstUp());
            return "up".equals(h.get("status"))
                && cluster.serviceAt(h.get("node")) >= 0
                && cluster.serviceAt(h.get("node")) != host;
          },
          "the market to run on a surviving node");
      long resumedAt = System.nanoTime();
      int acksBefore = load.acked.size();
      load.awaitAcks(acksBefore + 100, LONG);
      load.stop();
      figures.add(
          "service node lost (kill -9 node "
              + (host + 1)
              + ", which hosted "
              + H100
              + "): market up on node "
              + (cluster.serviceAt(marketHealth(firstUp()).get("node")) + 1)
              + " "
              + millis(killedAt, resumedAt)
              + " ms after the kill (Split Brain Resolver stable-after 5 s); longest gap between"
              + " acknowledgements "
              + load.longestAckGapMillis(killedAt)
              + " ms; "
              + load.figures());
      assertLoadClean(load);
    }
    cluster.startService(host);
    cluster.awaitReady(host, LONG);
    up[host] = true;
    assertJournalWhole(ConsistencyLevel.QUORUM);
  }

  @Test
  @Order(2)
  void shouldKeepWritingAtQuorumWhenACassandraNodeIsKilledAndCatchItUpAfter() throws Exception {
    int node = 2; // 127.0.0.3
    try (BidLoad load = load("cassandra")) {
      load.start(40);
      load.awaitAcks(100, LONG);
      long killedAt = System.nanoTime();
      cluster.killCassandra(node);
      int acksBefore = load.acked.size();
      load.awaitAcks(acksBefore + 200, LONG);
      int duringOutage = load.acksSince(killedAt);
      // the survivors hold hints for the lost replica while it is down
      await(() -> hintFiles(0) + hintFiles(1) > 0, "hints for the lost node on the survivors");
      long restartAt = System.nanoTime();
      cluster.startCassandra(node);
      long backAt = System.nanoTime();
      load.awaitAcks(load.acked.size() + 100, LONG);
      load.stop();
      // the node catches up: the survivors replay their hints to it and delete them
      await(() -> hintFiles(0) + hintFiles(1) == 0, "the hints to be delivered");
      long caughtUpAt = System.nanoTime();
      figures.add(
          "Cassandra node lost (kill -9 127.0.0.3 for "
              + millis(killedAt, restartAt) / 1000
              + " s): "
              + duringOutage
              + " bids acknowledged while it was down; longest gap between acknowledgements "
              + load.longestAckGapMillis(killedAt)
              + " ms; the node answered CQL "
              + millis(restartAt, backAt) / 1000
              + " s after its restart and had its hints "
              + millis(backAt, caughtUpAt) / 1000
              + " s later; "
              + load.figures());
      assertTrue(duringOutage >= 200, "writes went on at QUORUM: " + duringOutage);
      assertLoadClean(load);
    }
    // every replica answers again: read at ALL
    assertJournalWhole(ConsistencyLevel.ALL);
  }

  @Test
  @Order(3)
  void shouldLoseNothingWhenEveryServiceNodeIsRestartedInTurn() throws Exception {
    int boardNode = 1;
    try (Playwright playwright = Playwright.create();
        Browser browser = chromium(playwright);
        BidLoad load = load("rolling")) {
      Page page = browser.newPage();
      page.setDefaultTimeout(LONG.toMillis());
      page.navigate(cluster.baseUri(boardNode) + "/");
      waitFor(page, "document.querySelector('#conn').dataset.state === 'live'");
      int opensBefore = Integer.parseInt(page.getAttribute("body", "data-opens"));
      load.start(40);
      load.awaitAcks(100, LONG);
      List<String> rolled = new ArrayList<>();
      for (int i = 0; i < cluster.size(); i++) {
        long stoppingAt = System.nanoTime();
        up[i] = false; // a client's health check takes the node out first
        assertTrue(cluster.stopService(i, Duration.ofSeconds(60)), "node " + (i + 1) + " left");
        long leftAt = System.nanoTime();
        cluster.startService(i);
        cluster.awaitReady(i, LONG);
        assertOneCluster(i);
        up[i] = true;
        rolled.add(
            "node "
                + (i + 1)
                + " left in "
                + millis(stoppingAt, leftAt)
                + " ms, ready again "
                + millis(leftAt, System.nanoTime())
                + " ms later");
        load.awaitAcks(load.acked.size() + 50, LONG);
      }
      // the board on node 2 lost its stream when node 2 stopped, and opened it again
      waitFor(
          page,
          "Number(document.body.dataset.opens) > "
              + opensBefore
              + " && document.querySelector('#conn').dataset.state === 'live'");
      load.stop();
      figures.add(
          "rolling restart (SIGTERM, start, ready; each node in turn): "
              + rolled
              + "; "
              + load.figures());
      assertLoadClean(load);
    }
    assertJournalWhole(ConsistencyLevel.QUORUM);
  }

  @Test
  @Order(4)
  void shouldDownAFrozenNodeMoveItsShardsAndNeverLetItWriteAgain() throws Exception {
    int host = marketHost();
    String frozenAddress = cluster.clusterAddress(host);
    Process frozen = cluster.service(host);
    try (BidLoad load = load("partition")) {
      load.start(40);
      load.awaitAcks(100, LONG);
      long frozenAt = System.nanoTime();
      up[host] = false;
      cluster.freezeService(host);
      // the majority downs it and removes it, and its market runs on a survivor
      await(
          () -> {
            Set<String> members = members(firstUp());
            return members != null && !members.contains(frozenAddress);
          },
          "the frozen node to be downed and removed");
      long removedAt = System.nanoTime();
      await(
          () -> {
            Map<String, String> h = marketHealth(firstUp());
            return "up".equals(h.get("status")) && !frozenAddress.equals(h.get("node"));
          },
          "the market to run on a survivor");
      long movedAt = System.nanoTime();
      load.awaitAcks(load.acked.size() + 100, LONG);
      cluster.thawService(host);
      // the minority side learns it was downed and stops for good
      assertTrue(frozen.waitFor(LONG.toSeconds(), TimeUnit.SECONDS), "the downed node exited");
      long exitedAt = System.nanoTime();
      load.awaitAcks(load.acked.size() + 50, LONG);
      load.stop();
      figures.add(
          "partition (SIGSTOP node "
              + (host + 1)
              + ", which hosted "
              + H100
              + "): removed from the cluster "
              + millis(frozenAt, removedAt)
              + " ms after the freeze, market up on a survivor "
              + millis(frozenAt, movedAt)
              + " ms after it; thawed, it exited "
              + millis(movedAt, exitedAt)
              + " ms later; longest gap between acknowledgements "
              + load.longestAckGapMillis(frozenAt)
              + " ms; "
              + load.figures());
      assertLoadClean(load);
    }
    assertJournalWhole(ConsistencyLevel.QUORUM);
  }

  // ------------------------------------------------------------------ checks

  BidLoad load(String name) {
    return new BidLoad(
        name, bidderKey, cluster.size(), cluster::baseUri, i -> up[i], ClusterFaultTest::bid);
  }

  /** A bid that stays open (no capacity is offered): every one is a write to the market. */
  static String bid(int n) {
    SlotClock clock = SlotClock.DEFAULT;
    var slot = clock.slotAtOrAfter(System.currentTimeMillis()) + 1;
    return "{\"gpuModel\":\""
        + H100
        + "\",\"nodes\":"
        + (1 + n % 4)
        + ",\"durationMinutes\":60,\"earliestStart\":\""
        + clock.start(slot + 8)
        + "\",\"latestEnd\":\""
        + clock.start(slot + 40)
        + "\",\"limitPrice\":\"0.0"
        + (1 + n % 9)
        + "\"}";
  }

  /**
   * No client saw an answer but 201, a replay's 200 or 503 with Retry-After; none gave up; every
   * acknowledged bid reads back from the cluster.
   */
  void assertLoadClean(BidLoad load) throws Exception {
    assertEquals(
        List.of(), List.copyOf(load.unexpected), "answers other than 201/200/503/422 not placed");
    assertEquals(0, load.unavailableWithoutRetryAfter.sum(), "503s without Retry-After");
    assertEquals(List.of(), List.copyOf(load.gaveUp), "bids never acknowledged");
    assertEquals(load.sent(), load.acked.size(), "every bid sent was acknowledged");
    List<String> missing = new ArrayList<>();
    int n = 0;
    for (String id : load.ids()) {
      int node = upNode(n++);
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(URI.create(cluster.baseUri(node) + "/v1/bids/" + id))
                  .header("Authorization", "Bearer " + bidderKey)
                  .timeout(Duration.ofSeconds(30))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200) {
        missing.add(id + ": " + r.statusCode() + " " + r.body());
      }
    }
    assertEquals(List.of(), missing, "acknowledged bids not found");
  }

  /**
   * The market's journal read at {@code consistency}: sequence numbers from the first kept to the
   * last, each once (a second incarnation writing the same number would show as a repeat), and the
   * writers in runs: once another incarnation has written, an earlier one never writes again.
   */
  void assertJournalWhole(ConsistencyLevel consistency) {
    List<Row> rows =
        cql.execute(
                SimpleStatement.newInstance(
                        "SELECT sequence_nr, writer_uuid FROM surplus_journal.messages"
                            + " WHERE persistence_id = ? AND partition_nr = 0",
                        "Market|" + H100)
                    .setConsistencyLevel(consistency)
                    .setTimeout(Duration.ofSeconds(30)))
            .all();
    assertTrue(rows.size() > 100, "the market's journal: " + rows.size() + " events");
    long first = rows.get(0).getLong("sequence_nr");
    List<String> writers = new ArrayList<>();
    for (int i = 0; i < rows.size(); i++) {
      assertEquals(first + i, rows.get(i).getLong("sequence_nr"), "sequence number at row " + i);
      String w = rows.get(i).getString("writer_uuid");
      if (writers.isEmpty() || !writers.get(writers.size() - 1).equals(w)) {
        writers.add(w);
      }
    }
    Set<String> distinct = new LinkedHashSet<>(writers);
    assertEquals(distinct.size(), writers.size(), "a writer wrote again after another: " + writers);
  }

  // ------------------------------------------------------------------ the cluster as seen

  int firstUp() {
    return upNode(0);
  }

  int upNode(int n) {
    for (int k = 0; k < up.length; k++) {
      int i = (n + k) % up.length;
      if (up[i]) {
        return i;
      }
    }
    throw new IllegalStateException("no node up");
  }

  /** The node running the H100 market, once a node's readiness document names it, up. */
  int marketHost() throws Exception {
    await(
        () -> {
          Map<String, String> h = marketHealth(firstUp());
          return "up".equals(h.get("status")) && cluster.serviceAt(h.get("node")) >= 0;
        },
        "the market to be up on a node of the cluster");
    String node = marketHealth(firstUp()).get("node");
    int host = cluster.serviceAt(node);
    assertNotEquals(-1, host, "the market's node " + node);
    return host;
  }

  /** The H100 market's status and node as node {@code i} sees it (empty: no answer). */
  Map<String, String> marketHealth(int i) {
    try {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(URI.create(cluster.baseUri(i) + "/health/ready"))
                  .timeout(Duration.ofSeconds(10))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200 && r.statusCode() != 503) {
        return Map.of();
      }
      JsonNode m = JSON.readTree(r.body()).path("markets").path(H100);
      return Map.of("status", m.path("status").asText(""), "node", m.path("node").asText(""));
    } catch (IOException e) {
      return Map.of();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /**
   * Node {@code i}, just restarted, joined the running cluster rather than forming one of its own
   * (which would run a second copy of every market): it lists every node, and so does each other.
   */
  void assertOneCluster(int i) throws InterruptedException {
    Set<String> all = new LinkedHashSet<>();
    for (int j = 0; j < cluster.size(); j++) {
      all.add(cluster.clusterAddress(j));
    }
    for (int j = 0; j < cluster.size(); j++) {
      int node = j;
      await(
          () -> all.equals(members(node)),
          "node " + (node + 1) + " to list all three nodes after node " + (i + 1) + " restarted");
    }
  }

  /**
   * The cluster addresses (host:port) of the members node {@code i}'s management lists; null when
   * it does not answer.
   */
  Set<String> members(int i) {
    int port = cluster.layout().managementPort() + i;
    try {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/cluster/members"))
                  .timeout(Duration.ofSeconds(10))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      Set<String> members = new LinkedHashSet<>();
      for (JsonNode m : JSON.readTree(r.body()).path("members")) {
        members.add(m.path("node").asText().replace("pekko://surplus@", ""));
      }
      return members;
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  long hintFiles(int cassandraNode) {
    Path dir = cluster.hintsDirectory(cassandraNode);
    if (!Files.isDirectory(dir)) {
      return 0;
    }
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(p -> p.getFileName().toString().endsWith(".hints")).count();
    } catch (IOException e) {
      return 0; // a file deleted while listed: look again
    }
  }

  Properties demoKeys() throws IOException {
    Properties keys = new Properties();
    try (InputStream in =
        Files.newInputStream(cluster.serviceHome(0).resolve("demo-keys.properties"))) {
      keys.load(in);
    }
    return keys;
  }

  static Browser chromium(Playwright playwright) {
    return playwright
        .chromium()
        .launch(
            new BrowserType.LaunchOptions()
                .setExecutablePath(Paths.get("/usr/bin/chromium"))
                .setHeadless(true)
                .setArgs(List.of("--headless", "--no-sandbox", "--disable-gpu")));
  }

  /** Waits until {@code expression} holds on the page (a function, as the page's CSP wants). */
  static void waitFor(Page page, String expression) {
    page.waitForFunction(
        "() => { try { return !!(" + expression + "); } catch (e) { return false; } }",
        null,
        new Page.WaitForFunctionOptions().setTimeout(LONG.toMillis()).setPollingInterval(200));
  }

  /** Polls a condition on processes this test does not get events from, up to {@link #LONG}. */
  static void await(BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + LONG.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("gave up waiting for " + what);
      }
      Thread.sleep(250);
    }
  }

  static long millis(long fromNanos, long toNanos) {
    return TimeUnit.NANOSECONDS.toMillis(toNanos - fromNanos);
  }
}
