package io.surplus.load.tools;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.cbor.CBORFactory;
import io.surplus.load.Results;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.GZIPInputStream;

/**
 * The no-loss audit after a bid run: every bid the service acknowledged with a 201 must be found
 * twice, through the API ({@code GET /v1/bids/{id}} with the key that placed it) and in Cassandra
 * (a {@code BidPlaced} event for it in its market's journal, read with the driver and decoded from
 * CBOR). Prints the count of missing bids; exits 1 when any is missing.
 *
 * <p>Usage: {@code NoLossAudit <url> <host:port> <journal keyspace> <acked file> <out dir>}
 */
public final class NoLossAudit {

  private static final ObjectMapper CBOR = new ObjectMapper(new CBORFactory());
  private static final ObjectMapper JSON = new ObjectMapper();

  private NoLossAudit() {}

  public static void main(String[] args) throws Exception {
    String url = args[0].replaceAll("/+$", "");
    String hostPort = args[1];
    String keyspace = args[2];
    Path acked = Path.of(args[3]);
    Path out = Path.of(args[4]);
    Map<String, String> keyOfBid = new LinkedHashMap<>();
    for (String line : Files.readAllLines(acked)) {
      if (!line.isBlank()) {
        String[] f = line.split(" ");
        keyOfBid.put(f[1], f[0]);
      }
    }
    long missingInApi = viaApi(url, keyOfBid);
    long missingInJournal;
    long journalBids;
    try (CqlSession session = Cql.connect(hostPort)) {
      Set<Long> placed = placedBids(session, keyspace, markets(url));
      journalBids = placed.size();
      missingInJournal =
          keyOfBid.keySet().stream().filter(id -> !placed.contains(parse(id))).count();
    }
    Results.write(
        out,
        "NoLossAudit",
        Map.of(
            "ackedBids", keyOfBid.size(),
            "missingThroughApi", missingInApi,
            "missingInJournal", missingInJournal,
            "bidsInJournal", journalBids));
    System.out.printf(
        "no-loss audit: %d acknowledged bids; missing through the API: %d; missing in Cassandra: %d%n",
        keyOfBid.size(), missingInApi, missingInJournal);
    System.exit(missingInApi == 0 && missingInJournal == 0 ? 0 : 1);
  }

  /**
   * Bids not found through the API. A 503 or a failed connection is no answer (the service may
   * still be working off an overload): those are asked again, up to ten rounds two seconds apart,
   * and count as missing only if they never get one.
   */
  private static long viaApi(String url, Map<String, String> keyOfBid) throws Exception {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    Map<String, String> ask = keyOfBid;
    long missing = 0;
    for (int round = 1; ; round++) {
      Map<String, String> unanswered = new java.util.concurrent.ConcurrentHashMap<>();
      AtomicLong notFound = new AtomicLong();
      Semaphore inFlight = new Semaphore(32);
      List<CompletableFuture<?>> all = new ArrayList<>();
      for (Map.Entry<String, String> e : ask.entrySet()) {
        inFlight.acquire();
        HttpRequest r =
            HttpRequest.newBuilder(URI.create(url + "/v1/bids/" + e.getKey()))
                .header("Authorization", "Bearer " + e.getValue())
                .timeout(Duration.ofSeconds(30))
                .build();
        all.add(
            http.sendAsync(r, HttpResponse.BodyHandlers.ofString())
                .whenComplete(
                    (resp, t) -> {
                      inFlight.release();
                      if (t != null || resp.statusCode() == 503) {
                        unanswered.put(e.getKey(), e.getValue());
                      } else if (resp.statusCode() != 200
                          || !idOf(resp.body()).equals(e.getKey())) {
                        if (notFound.incrementAndGet() <= 10) {
                          System.out.println(
                              "missing through the API: "
                                  + e.getKey()
                                  + " -> "
                                  + resp.statusCode()
                                  + " "
                                  + resp.body());
                        }
                      }
                    }));
      }
      CompletableFuture.allOf(all.toArray(CompletableFuture[]::new))
          .exceptionally(t -> null)
          .join();
      missing += notFound.get();
      if (unanswered.isEmpty()) {
        return missing;
      }
      if (round == 10) {
        System.out.println(
            "no answer through the API after "
                + round
                + " rounds for "
                + unanswered.size()
                + " bids, e.g. "
                + unanswered.keySet().iterator().next());
        return missing + unanswered.size();
      }
      System.out.println(
          "audit: " + unanswered.size() + " bids got no answer (503); asking again in 2 s");
      Thread.sleep(2000);
      ask = unanswered;
    }
  }

  private static String idOf(String body) {
    try {
      return JSON.readTree(body).path("id").asText();
    } catch (IOException e) {
      return "";
    }
  }

  private static List<String> markets(String url) throws Exception {
    HttpResponse<String> r =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(url + "/v1/markets")).build(),
                HttpResponse.BodyHandlers.ofString());
    List<String> models = new ArrayList<>();
    JSON.readTree(r.body()).path("markets").forEach(m -> models.add(m.path("gpuModel").asText()));
    return models;
  }

  /** Ids of every bid in a {@code BidPlaced} event of the markets' journals. */
  static Set<Long> placedBids(CqlSession session, String keyspace, List<String> markets)
      throws IOException {
    PreparedStatement select =
        session.prepare(
            "SELECT ser_manifest, event FROM "
                + keyspace
                + ".messages WHERE persistence_id = ? AND partition_nr = ?");
    Set<Long> ids = new HashSet<>();
    for (String model : markets) {
      // a partition holds target-partition-size events (500,000); stop at the first empty one
      for (long partition = 0; ; partition++) {
        boolean any = false;
        for (Row row : session.execute(select.bind("Market|" + model, partition))) {
          any = true;
          if (row.getString("ser_manifest").endsWith("Market$BidPlaced")) {
            ids.add(decode(row.getByteBuffer("event")).path("bid").path("id").asLong());
          }
        }
        if (!any) {
          break;
        }
      }
    }
    return ids;
  }

  private static JsonNode decode(ByteBuffer event) throws IOException {
    byte[] bytes = new byte[event.remaining()];
    event.get(bytes);
    if (bytes.length > 2 && (bytes[0] & 0xff) == 0x1f && (bytes[1] & 0xff) == 0x8b) {
      bytes = new GZIPInputStream(new ByteArrayInputStream(bytes)).readAllBytes();
    }
    return CBOR.readTree(bytes);
  }

  /** {@code bid_<account>_<n>} as the service's 64-bit id. */
  static long parse(String bidId) {
    String[] f = bidId.split("_");
    return (Long.parseLong(f[1]) << 32) | Long.parseLong(f[2]);
  }
}
