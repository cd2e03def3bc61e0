package io.surplus.feed.report;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.surplus.engine.Price;
import io.surplus.engine.RevocationKind;
import io.surplus.feed.sim.PoolSpec;
import io.surplus.feed.sim.SimEvent.Cause;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;

/**
 * The earnings report as one HTML page: its figures as JSON in a {@code <script
 * type="application/json" id="report-data">} element, drawn by ECharts from the webjar, which is
 * written next to the page so it opens offline. Node-hours and dollars in the JSON are exact
 * decimals made from the ledger's longs.
 */
public final class ReportPage {

  /** The ECharts webjar's Maven metadata, which names its version. */
  static final String ECHARTS_POM = "META-INF/maven/org.webjars/echarts/pom.properties";

  /** The ECharts build on the class path, of the webjar's version (the pom chooses it). */
  static String echarts() {
    java.util.Properties pom = new java.util.Properties();
    try (InputStream in = ReportPage.class.getClassLoader().getResourceAsStream(ECHARTS_POM)) {
      if (in == null) {
        throw new IllegalStateException("the ECharts webjar is not on the class path");
      }
      pom.load(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return "META-INF/resources/webjars/echarts/" + pom.getProperty("version") + "/echarts.min.js";
  }

  /** Upper bounds, in seconds, of the buckets notice given is counted in; the last is open. */
  static final long[] NOTICE_BUCKETS = {0, 60, 300, 600, 900, 1800, 3600};

  private static final JsonMapper MAPPER = JsonMapper.builder().build();

  /** Reads numbers back as the exact decimals they were written from. */
  private static final JsonMapper READER =
      JsonMapper.builder().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS).build();

  private ReportPage() {}

  /** What the report is about, for its title and its JSON. */
  public record Run(long seed, String fleet, Instant start, int days, int epochSeconds) {}

  /** The report's figures as JSON. */
  public static ObjectNode data(Run run, List<PoolSpec> fleet, Ledger l) {
    ObjectNode root = MAPPER.createObjectNode();
    root.put("seed", run.seed());
    root.put("fleet", run.fleet());
    root.put("start", run.start().toString());
    root.put("days", run.days());
    root.put("epochSeconds", run.epochSeconds());
    root.put("slotSeconds", l.slotSeconds());
    ArrayNode dates = root.putArray("dates");
    for (int d = 0; d < l.days(); d++) {
      dates.add(run.start().atZone(ZoneOffset.UTC).toLocalDate().plusDays(d).toString());
    }
    ArrayNode pools = root.putArray("pools");
    for (int p = 0; p < fleet.size(); p++) {
      PoolSpec spec = fleet.get(p);
      ObjectNode o = pools.addObject();
      o.put("name", spec.name());
      o.put("gpuModel", spec.gpuModel().name());
      o.put("reserve", new BigDecimal(Price.format(spec.reservePrice())));
      o.put("offeredNodeHours", hours(l.offeredNodeSeconds(p)));
      o.put("soldNodeHours", hours(l.soldNodeSeconds(p)));
      o.put("idleNodeHours", hours(l.idleNodeSeconds(p)));
      o.put("sellThrough", ratio(l.soldNodeSeconds(p), l.offeredNodeSeconds(p)));
      o.put("revokedPlannedNodeHours", hours(l.revokedNodeSeconds(p, RevocationKind.PLANNED)));
      o.put("revokedEmergencyNodeHours", hours(l.revokedNodeSeconds(p, RevocationKind.EMERGENCY)));
      o.put("revenue", Ledger.dollars(l.grossRevenue(p)));
      o.put("noticeCredit", Ledger.dollars(l.noticeCredit(p)));
      o.put("averagePrice", price(Ledger.averagePrice(l.grossRevenue(p), l.soldGpuSeconds(p))));
      ObjectNode idle = o.putObject("idleNodeHoursByCause");
      for (Cause c : Ledger.OFFER_CAUSES) {
        idle.put(c.name(), hours(l.idleNodeSeconds(p, c)));
      }
      ObjectNode pre = o.putObject("preemptions");
      for (RevocationKind k : RevocationKind.values()) {
        ObjectNode kind = pre.putObject(k.name());
        kind.put("leases", l.preemptions(p, k));
        kind.put("nodes", l.preemptedNodes(p, k));
      }
      ObjectNode daily = o.putObject("daily");
      ArrayNode offered = daily.putArray("offeredNodeHours");
      ArrayNode sold = daily.putArray("soldNodeHours");
      ArrayNode through = daily.putArray("sellThrough");
      ArrayNode revenue = daily.putArray("revenue");
      ArrayNode avg = daily.putArray("averagePrice");
      for (int d = 0; d < l.days(); d++) {
        offered.add(hours(l.offeredNodeSeconds(p, d)));
        sold.add(hours(l.soldNodeSeconds(p, d)));
        through.add(ratio(l.soldNodeSeconds(p, d), l.offeredNodeSeconds(p, d)));
        revenue.add(Ledger.dollars(l.grossRevenue(p, d) - l.noticeCredit(p, d)));
        long gs = l.soldGpuSeconds(p, d);
        if (gs == 0) {
          avg.addNull();
        } else {
          avg.add(price(Ledger.averagePrice(l.grossRevenue(p, d), gs)));
        }
      }
    }
    ObjectNode notice = root.putObject("notice");
    ArrayNode buckets = notice.putArray("buckets");
    for (int i = 0; i <= NOTICE_BUCKETS.length; i++) {
      buckets.add(bucketLabel(i));
    }
    for (RevocationKind k : RevocationKind.values()) {
      ObjectNode kind = notice.putObject(k.name());
      kind.put("promisedMinSeconds", l.noticePromisedMin(k));
      kind.put("shortfallSeconds", l.noticeShortfallSeconds(k));
      long[] counts = new long[NOTICE_BUCKETS.length + 1];
      for (long given : l.noticeGiven(k)) {
        counts[bucket(given)]++;
      }
      ArrayNode c = kind.putArray("given");
      for (long n : counts) {
        c.add(n);
      }
    }
    return root;
  }

  /** Writes the page and {@code echarts.min.js} beside it. */
  public static void write(Path html, ObjectNode data, String summary) {
    try {
      Path dir = html.toAbsolutePath().getParent();
      Files.createDirectories(dir);
      String echarts = echarts();
      try (InputStream in = ReportPage.class.getClassLoader().getResourceAsStream(echarts)) {
        if (in == null) {
          throw new IllegalStateException("ECharts is not on the class path: " + echarts);
        }
        Files.write(dir.resolve("echarts.min.js"), in.readAllBytes());
      }
      Files.writeString(html, html(data, summary));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The page for {@code data}, with {@code summary} (the printed figures) under the charts. */
  static String html(ObjectNode data, String summary) {
    String json;
    try {
      // "</" would end the script element early; "<\/" is the same JSON string
      json = MAPPER.writeValueAsString(data).replace("</", "<\\/");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    String title =
        "What the surplus would earn: seed "
            + data.get("seed").asText()
            + ", "
            + data.get("days").asText()
            + " days, fleet "
            + data.get("fleet").asText();
    return """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <title>%s</title>
        <script src="echarts.min.js"></script>
        <style>
          body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
          .chart { width: 100%%; max-width: 1100px; height: 380px; margin-bottom: 1.5em; }
          pre { background: #f6f6f6; padding: 1em; overflow-x: auto; }
        </style>
        </head>
        <body>
        <h1>%s</h1>
        <p>The simulated fleet's feed and its outside demand, replayed through the clearing engine
        in simulated time (docs/FEED.md, "What the surplus would earn").</p>
        <h2>Where the offered node-hours went</h2><div id="where" class="chart"></div>
        <h2>Sell-through by pool and day</h2><div id="through" class="chart"></div>
        <h2>Revenue by day (USD, after notice credits)</h2><div id="revenue" class="chart"></div>
        <h2>Average price against reserve (USD per GPU-hour)</h2><div id="price" class="chart"></div>
        <h2>Preemptions: notice given</h2><div id="notice" class="chart"></div>
        <h2>Key figures</h2>
        <pre>%s</pre>
        <script type="application/json" id="report-data">%s</script>
        <script>
        %s
        </script>
        </body>
        </html>
        """
        .formatted(escape(title), escape(title), escape(summary), json, SCRIPT);
  }

  /** The embedded figures of a page {@link #html} wrote. */
  static JsonNode embedded(String page) throws IOException {
    String open = "<script type=\"application/json\" id=\"report-data\">";
    int from = page.indexOf(open);
    if (from < 0) {
      throw new IOException("no report-data element in the page");
    }
    from += open.length();
    int to = page.indexOf("</script>", from);
    return READER.readTree(page.substring(from, to));
  }

  private static final String SCRIPT =
      """
      const data = JSON.parse(document.getElementById('report-data').textContent);
      const names = data.pools.map(p => p.name);
      const causes = {CHECKPOINT_EVAL_GAP: 'idle: checkpoint-eval gap', STAGING: 'idle: staging',
        SPARES: 'idle: spares'};
      const bar = (name, stack, values) => ({name, type: 'bar', stack, data: values});
      echarts.init(document.getElementById('where')).setOption({
        tooltip: {trigger: 'axis'}, legend: {}, xAxis: {type: 'category', data: names},
        yAxis: {type: 'value', name: 'node-hours'},
        series: [bar('sold', 'offered', data.pools.map(p => p.soldNodeHours))]
          .concat(Object.keys(causes).map(c =>
            bar(causes[c], 'offered', data.pools.map(p => p.idleNodeHoursByCause[c]))))
          .concat([bar('revoked from leases: planned', 'revoked',
                       data.pools.map(p => p.revokedPlannedNodeHours)),
                   bar('revoked from leases: emergency', 'revoked',
                       data.pools.map(p => p.revokedEmergencyNodeHours))])
      });
      const daily = (id, key, yName, type, extra) => echarts.init(document.getElementById(id))
        .setOption({tooltip: {trigger: 'axis'}, legend: {},
          xAxis: {type: 'category', data: data.dates}, yAxis: {type: 'value', name: yName},
          series: data.pools.map(p => Object.assign(
            {name: p.name, type, data: p.daily[key], connectNulls: false},
            type === 'bar' ? {stack: 'all'} : {}, extra ? extra(p) : {}))});
      daily('through', 'sellThrough', 'sold / offered', 'line');
      daily('revenue', 'revenue', 'USD', 'bar');
      daily('price', 'averagePrice', 'USD per GPU-hour', 'line', p => ({markLine: {
        symbol: 'none', lineStyle: {type: 'dashed'}, label: {formatter: p.name + ' reserve'},
        data: [{yAxis: p.reserve}]}}));
      echarts.init(document.getElementById('notice')).setOption({
        tooltip: {trigger: 'axis'}, legend: {},
        xAxis: {type: 'category', data: data.notice.buckets, name: 'notice given'},
        yAxis: {type: 'value', name: 'leases preempted'},
        series: ['PLANNED', 'EMERGENCY'].map(k => ({name: k.toLowerCase(), type: 'bar',
          data: data.notice[k].given}))
      });
      """;

  private static int bucket(long seconds) {
    for (int i = 0; i < NOTICE_BUCKETS.length; i++) {
      if (seconds <= NOTICE_BUCKETS[i]) {
        return i;
      }
    }
    return NOTICE_BUCKETS.length;
  }

  private static String bucketLabel(int i) {
    if (i == 0) {
      return "none";
    }
    if (i == NOTICE_BUCKETS.length) {
      return "> " + span(NOTICE_BUCKETS[i - 1]);
    }
    return span(NOTICE_BUCKETS[i - 1]) + "-" + span(NOTICE_BUCKETS[i]);
  }

  private static String span(long seconds) {
    return seconds % 3600 == 0 && seconds > 0 ? seconds / 3600 + " h" : seconds / 60 + " min";
  }

  /** Node-seconds as node-hours, exact to the hundredth. */
  static BigDecimal hours(long nodeSeconds) {
    return BigDecimal.valueOf(nodeSeconds)
        .divide(BigDecimal.valueOf(3600), 2, RoundingMode.HALF_EVEN);
  }

  private static BigDecimal ratio(long part, long whole) {
    return whole == 0
        ? null
        : BigDecimal.valueOf(part).divide(BigDecimal.valueOf(whole), 4, RoundingMode.HALF_EVEN);
  }

  private static BigDecimal price(long micros) {
    return BigDecimal.valueOf(micros, Price.MAX_DECIMALS).stripTrailingZeros();
  }

  private static String escape(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }
}
