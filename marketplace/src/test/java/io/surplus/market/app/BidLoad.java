package io.surplus.market.app;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntFunction;
import java.util.function.IntPredicate;

/**
 * A steady bid load spread over a cluster's nodes, as a careful client sends it: each bid goes to
 * the next node in turn; a {@code 503}, a refused or reset connection or no answer within 10 s
 * sends the same bid (same idempotency key) to the next node that is up, 200 ms later, until it is
 * acknowledged or two minutes have passed. Records every acknowledgement (bid id, node, when),
 * every {@code 503} and whether it carried {@code Retry-After}, and every other answer, which a
 * test expects none of. A {@code 422} "not placed" (the key's earlier attempt was settled as never
 * placed: its market was lost before it confirmed it) sends the same bid again under a new key, as
 * the answer tells a client to.
 */
final class BidLoad implements AutoCloseable {

  private static final ObjectMapper JSON = new ObjectMapper();
  static final Duration GIVE_UP = Duration.ofMinutes(2);

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final ScheduledExecutorService timer =
      Executors.newScheduledThreadPool(
          2,
          r -> {
            Thread t = new Thread(r, "bid-load");
            t.setDaemon(true);
            return t;
          });
  private final String prefix;
  private final String key;
  private final IntFunction<String> baseUri;
  private final int nodes;
  private final IntPredicate up;
  private final IntFunction<String> body;
  private final AtomicInteger sent = new AtomicInteger();
  private ScheduledFuture<?> firing;

  /** Idempotency key to bid id, for every bid acknowledged. */
  final Map<String, String> acked = new ConcurrentHashMap<>();

  /** When (System.nanoTime) each acknowledgement came, and from which node. */
  final ConcurrentSkipListMap<Long, Integer> ackTimes = new ConcurrentSkipListMap<>();

  final LongAdder unavailable = new LongAdder();
  final LongAdder unavailableWithoutRetryAfter = new LongAdder();
  final LongAdder noAnswer = new LongAdder();

  /** The problem type of a key whose bid was settled as never placed. */
  static final String NOT_PLACED = "problems/not-placed";

  /** Bids sent again under a new key after a {@code 422} "not placed". */
  final LongAdder notPlaced = new LongAdder();

  final AtomicInteger mostAttempts = new AtomicInteger();

  /** Answers no client should see: anything but 201, 200 (a replay) and 503 with Retry-After. */
  final ConcurrentLinkedQueue<String> unexpected = new ConcurrentLinkedQueue<>();

  /** Bids given up on after {@link #GIVE_UP}. */
  final ConcurrentLinkedQueue<String> gaveUp = new ConcurrentLinkedQueue<>();

  private final Object settled = new Object();
  private int open;

  /**
   * @param up whether node i is meant to be up (a client's list of healthy nodes); a retry skips
   *     the others
   * @param body the bid body of the n-th bid
   */
  BidLoad(
      String prefix,
      String key,
      int nodes,
      IntFunction<String> baseUri,
      IntPredicate up,
      IntFunction<String> body) {
    this.prefix = prefix;
    this.key = key;
    this.nodes = nodes;
    this.baseUri = baseUri;
    this.up = up;
    this.body = body;
  }

  /** Sends {@code perSecond} bids a second until {@link #stop}. */
  BidLoad start(int perSecond) {
    firing = timer.scheduleAtFixedRate(this::fire, 0, 1_000_000 / perSecond, TimeUnit.MICROSECONDS);
    return this;
  }

  private void fire() {
    int n = sent.getAndIncrement();
    synchronized (settled) {
      open++;
    }
    String bidKey = prefix + "-" + n;
    attempt(bidKey, bidKey, body.apply(n), n % nodes, 1, System.nanoTime());
  }

  private void attempt(
      String bidKey, String idem, String bid, int node, int attempts, long startedNanos) {
    int target = node;
    for (int k = 0; k < nodes && !up.test(target); k++) {
      target = (target + 1) % nodes;
    }
    int at = target;
    HttpRequest request =
        HttpRequest.newBuilder(URI.create(baseUri.apply(at) + "/v1/bids"))
            .timeout(Duration.ofSeconds(10))
            .header("Authorization", "Bearer " + key)
            .header("Idempotency-Key", idem)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(bid))
            .build();
    http.sendAsync(request, HttpResponse.BodyHandlers.ofString())
        .whenComplete(
            (r, failure) -> {
              if (failure != null) {
                noAnswer.increment();
                retry(bidKey, idem, bid, at, attempts, startedNanos);
              } else if (r.statusCode() == 201 || r.statusCode() == 200) {
                acked.put(bidKey, id(r.body()));
                ackTimes.put(System.nanoTime(), at);
                mostAttempts.accumulateAndGet(attempts, Math::max);
                done();
              } else if (r.statusCode() == 503) {
                unavailable.increment();
                if (r.headers().firstValue("Retry-After").isEmpty()) {
                  unavailableWithoutRetryAfter.increment();
                }
                retry(bidKey, idem, bid, at, attempts, startedNanos);
              } else if (r.statusCode() == 422 && r.body().contains(NOT_PLACED)) {
                // the attempt under this key was settled as never placed (its market was lost
                // before confirming it): as the answer says, the same bid goes again, new key
                notPlaced.increment();
                retry(bidKey, bidKey + "-again-" + attempts, bid, at, attempts, startedNanos);
              } else {
                unexpected.add(
                    idem + " on node " + (at + 1) + ": " + r.statusCode() + " " + r.body());
                done();
              }
            });
  }

  private void retry(
      String bidKey, String idem, String bid, int node, int attempts, long startedNanos) {
    if (System.nanoTime() - startedNanos > GIVE_UP.toNanos()) {
      gaveUp.add(idem);
      done();
      return;
    }
    timer.schedule(
        () -> attempt(bidKey, idem, bid, (node + 1) % nodes, attempts + 1, startedNanos),
        200,
        TimeUnit.MILLISECONDS);
  }

  private static String id(String body) {
    try {
      JsonNode n = JSON.readTree(body);
      return n.get("id").asText();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void done() {
    synchronized (settled) {
      open--;
      settled.notifyAll();
    }
  }

  /** Waits until {@code n} bids in all have been acknowledged. */
  void awaitAcks(int n, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (settled) {
      while (acked.size() < n) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new AssertionError(
              "only " + acked.size() + " of " + n + " bids acknowledged in " + timeout);
        }
        TimeUnit.NANOSECONDS.timedWait(settled, left);
      }
    }
  }

  /** Acknowledgements after {@code sinceNanos} (System.nanoTime). */
  int acksSince(long sinceNanos) {
    return ackTimes.tailMap(sinceNanos).size();
  }

  /** The longest time between two acknowledgements after {@code sinceNanos}, in milliseconds. */
  long longestAckGapMillis(long sinceNanos) {
    long gap = 0;
    Long previous = ackTimes.floorKey(sinceNanos);
    long last = previous == null ? sinceNanos : previous;
    for (long t : ackTimes.tailMap(sinceNanos).keySet()) {
      gap = Math.max(gap, t - last);
      last = t;
    }
    return TimeUnit.NANOSECONDS.toMillis(gap);
  }

  /** Stops sending new bids and waits until every bid sent is acknowledged or given up. */
  void stop() throws InterruptedException {
    firing.cancel(false);
    long deadline = System.nanoTime() + GIVE_UP.plusSeconds(30).toNanos();
    synchronized (settled) {
      while (open > 0) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new AssertionError(open + " bids neither acknowledged nor given up");
        }
        TimeUnit.NANOSECONDS.timedWait(settled, left);
      }
    }
  }

  int sent() {
    return sent.get();
  }

  /** The figures of this run, for the report. */
  String figures() {
    return "sent "
        + sent()
        + ", acknowledged "
        + acked.size()
        + ", 503s "
        + unavailable.sum()
        + " (without Retry-After "
        + unavailableWithoutRetryAfter.sum()
        + "), no answer "
        + noAnswer.sum()
        + ", sent again under a new key after 'not placed' "
        + notPlaced.sum()
        + ", most attempts for one bid "
        + mostAttempts.get()
        + ", other answers "
        + unexpected.size()
        + ", given up "
        + gaveUp.size();
  }

  List<String> ids() {
    return List.copyOf(acked.values());
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
