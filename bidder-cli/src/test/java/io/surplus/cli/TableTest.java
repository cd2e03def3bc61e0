package io.surplus.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
  void shouldRefuseARowWithTheWrongNumberOfCells() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> new Table("A", "B").row("only one"));
    assertTrue(e.getMessage().contains("2 cells"), e.getMessage());
  }
}
