package io.surplus.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;

class TableTest {

  @Test
  void shouldPadColumnsToTheWidestCellAndRightAlignNumbers() {
    String s =
        new Table("ID", "PRICE", "STATUS")
            .row("bid_1_1", "2.25", "open")
            .row("bid_1_10", "12.5", "filled")
            .render();
    assertEquals(
        "ID        PRICE  STATUS\n" + "bid_1_1    2.25  open\n" + "bid_1_10   12.5  filled\n", s);
  }

  @Test
  void shouldShowAbsentCellsAsADashAndStillAlignTheNumbersAroundThem() {
    String s = new Table("MARKET", "LAST").row("H100", null).row("A100", "1.75").render();
    assertEquals("MARKET  LAST\n" + "H100       -\n" + "A100    1.75\n", s);
  }

  @Test
  void shouldLeftAlignAColumnThatMixesNumbersAndWords() {
    String s = new Table("NODES").row("4").row("2-4").render();
    assertEquals("NODES\n" + "4\n" + "2-4\n", s);
  }

  @Test
  void shouldRenderNameValuePairsWithoutAHeader() {
    String s = new Table().row("id", "bid_1_1").row("limit price", "2.40").render();
    assertEquals("id           bid_1_1\n" + "limit price  2.40\n", s);
  }

  @Test
  void shouldNotEndLinesWithPadding() {
    String s = new Table("A", "B").row("long value", "x").row("y", null).render();
    for (String line : s.split("\n")) {
      assertEquals(line.stripTrailing(), line);
    }
    assertTrue(s.endsWith("y           -\n"), s);
  }

  @Test
  void shouldLayOutAJsonArrayByColumnsWithInstantsInUtcAndMoneyAsSent() throws Exception {
    String json =
        "[{\"clearedAt\":\"2026-11-23T01:41:32.846Z\",\"price\":\"2.405\",\"end\":\"2026-11-23T04:15:00Z\"},"
            + "{\"clearedAt\":\"2026-11-23T01:42:00Z\",\"price\":\"12.50\"}]";
    Table t =
        Table.of(
            ApiClient.MAPPER.readTree(json),
            List.of(
                Table.Column.instant("CLEARED (UTC)", "clearedAt"),
                Table.Column.text("PRICE", "price"),
                Table.Column.instant("END (UTC)", "end")));
    assertEquals(
        "CLEARED (UTC)        PRICE  END (UTC)\n"
            + "2026-11-23 01:41:32  2.405  2026-11-23 04:15\n"
            + "2026-11-23 01:42     12.50  -\n",
        t.render());
  }

  @Test
  void shouldPrintTheGivenLineInsteadOfAnEmptyTable() {
    StringWriter s = new StringWriter();
    new Table("ID").print(new PrintWriter(s), "no bids");
    assertEquals("no bids\n", s.toString());
  }

  @Test
  void shouldRefuseARowWithTheWrongNumberOfCells() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> new Table("A", "B").row("only one"));
    assertTrue(e.getMessage().contains("2 cells"), e.getMessage());
  }
}
