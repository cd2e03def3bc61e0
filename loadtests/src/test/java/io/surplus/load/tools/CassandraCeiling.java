package io.surplus.load.tools;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import io.surplus.load.Results;
import io.surplus.load.Throughput;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Recorder;

/**
 * The storage ceiling: raw single-row inserts of a bid-sized blob (256 bytes) into the same
 * Cassandra node through the same driver the service uses, {@code concurrency} in flight, for
 * {@code seconds}. Its median inserts per second is what one durable write per bid could reach at
 * best on this machine; the service needs several per bid (see docs/PERFORMANCE.md).
 *
 * <p>Usage: {@code CassandraCeiling <host:port> <seconds> <concurrency> <out dir>}
 */
public final class CassandraCeiling {

  private CassandraCeiling() {}

  public static void main(String[] args) throws Exception {
    String hostPort = args.length > 0 ? args[0] : "127.0.0.1:9142";
    int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 10;
    int concurrency = args.length > 2 ? Integer.parseInt(args[2]) : 128;
    Path out = Path.of(args.length > 3 ? args[3] : "target/load");
    try (CqlSession session = Cql.connect(hostPort)) {
      session.execute(
          "CREATE KEYSPACE IF NOT EXISTS load_ceiling WITH replication ="
              + " {'class': 'SimpleStrategy', 'replication_factor': 1}");
      session.execute(
          "CREATE TABLE IF NOT EXISTS load_ceiling.rows (id bigint PRIMARY KEY, payload blob)");
      PreparedStatement insert =
          session.prepare("INSERT INTO load_ceiling.rows (id, payload) VALUES (?, ?)");
      byte[] payload = new byte[256];
      ThreadLocalRandom.current().nextBytes(payload);
      Semaphore inFlight = new Semaphore(concurrency);
      Recorder latency = new Recorder(3);
      Throughput rate = new Throughput();
      AtomicLong errors = new AtomicLong();
      long warmUpEnd = System.nanoTime() + 3_000_000_000L;
      long end = warmUpEnd + seconds * 1_000_000_000L;
      long id = ThreadLocalRandom.current().nextLong(1L << 40);
      while (System.nanoTime() < end) {
        inFlight.acquire();
        long start = System.nanoTime();
        boolean measured = start >= warmUpEnd;
        session
            .executeAsync(insert.bind(id++, ByteBuffer.wrap(payload)))
            .whenComplete(
                (r, t) -> {
                  inFlight.release();
                  if (t != null) {
                    errors.incrementAndGet();
                  } else if (measured) {
                    latency.recordValue((System.nanoTime() - start) / 1000);
                    rate.add(1);
                  }
                });
      }
      inFlight.acquire(concurrency);
      var h = latency.getIntervalHistogram();
      Results.write(
          out,
          "CassandraCeiling",
          Map.of(
              "insertsPerSecondMedian", rate.median(1, 1),
              "inserts", rate.total(),
              "errors", errors.get(),
              "p50Micros", h.getValueAtPercentile(50),
              "p99Micros", h.getValueAtPercentile(99),
              "concurrency", concurrency,
              "seconds", seconds));
    }
  }
}
