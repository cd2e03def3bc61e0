package io.surplus.feed.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.surplus.engine.RevocationKind;
import io.surplus.feed.sim.SimConfig;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The page carries the ledger's figures as JSON its charts read, and ECharts beside it. */
class ReportPageTest {

  private static final int DAYS = 3;

  @Test
  void shouldEmbedTheChartsDataAndWriteEchartsBesideThePage(@TempDir Path dir) throws Exception {
    EarningsReplay.Outcome o = EarningsReplayTest.replay();
    Ledger l = o.ledger();
    SimConfig config = SimConfig.defaults();
    ReportPage.Run run = new ReportPage.Run(7, "default", config.start(), DAYS, 900);
    Path html = dir.resolve("sub/report.html");
    ReportPage.write(html, ReportPage.data(run, config.fleet(), l), "key figures </script>");

    String page = Files.readString(html);
    assertTrue(Files.size(dir.resolve("sub/echarts.min.js")) > 500_000);
    assertTrue(page.contains("<script src=\"echarts.min.js\"></script>"));
    assertTrue(page.contains("key figures &lt;/script&gt;"));

    JsonNode data = ReportPage.embedded(page);
    assertEquals(DAYS, data.get("dates").size());
    assertEquals("2025-01-08", data.get("dates").get(2).asText());
    assertEquals(config.fleet().size(), data.get("pools").size());
    for (int p = 0; p < config.fleet().size(); p++) {
      JsonNode pool = data.get("pools").get(p);
      assertEquals(config.fleet().get(p).name(), pool.get("name").asText());
      assertSameDecimal(ReportPage.hours(l.offeredNodeSeconds(p)), pool.get("offeredNodeHours"));
      assertSameDecimal(ReportPage.hours(l.soldNodeSeconds(p)), pool.get("soldNodeHours"));
      assertSameDecimal(Ledger.dollars(l.grossRevenue(p)), pool.get("revenue"));
      assertEquals(
          l.preemptions(p, RevocationKind.PLANNED),
          pool.get("preemptions").get("PLANNED").get("leases").asLong());
      JsonNode daily = pool.get("daily");
      BigDecimal revenue = BigDecimal.ZERO;
      for (int d = 0; d < DAYS; d++) {
        assertSameDecimal(
            ReportPage.hours(l.soldNodeSeconds(p, d)), daily.get("soldNodeHours").get(d));
        revenue = revenue.add(daily.get("revenue").get(d).decimalValue());
      }
      // daily revenue is net of notice credits and rounded per day: within a cent a day of the
      // total
      BigDecimal net = Ledger.dollars(l.grossRevenue(p) - l.noticeCredit(p));
      assertTrue(
          revenue.subtract(net).abs().compareTo(new BigDecimal("0.03")) <= 0,
          revenue + " vs " + net);
      assertEquals(DAYS, daily.get("sellThrough").size());
    }
    long given = 0;
    for (JsonNode n : data.get("notice").get("PLANNED").get("given")) {
      given += n.asLong();
    }
    assertEquals(l.noticeGiven(RevocationKind.PLANNED).length, given);
  }

  private static void assertSameDecimal(BigDecimal expected, JsonNode actual) {
    assertTrue(actual.isBigDecimal(), actual + " was not read as an exact decimal");
    assertEquals(0, expected.compareTo(actual.decimalValue()), expected + " vs " + actual);
  }
}
