package io.surplus.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * A plain-text table for people: columns padded to their widest cell and two spaces apart, a header
 * row when there are headers, numbers (prices, counts) right-aligned so their digits line up. A
 * null cell shows as {@code -}. Without headers it is a list of name/value pairs. {@link #of} lays
 * out a JSON array of objects by {@link Column}s.
 */
final class Table {

  /** A column of a table of JSON objects: its header and what each object shows in it. */
  record Column(String header, Function<JsonNode, Object> cell) {

    /** A field's text as the API sent it (money stays its decimal string). */
    static Column text(String header, String field) {
      return new Column(header, n -> Fmt.text(n, field));
    }

    /** A field's instant, shown in UTC. */
    static Column instant(String header, String field) {
      return new Column(header, n -> Fmt.instant(n, field));
    }
  }

  /** One row per object of {@code rows}, a JSON array. */
  static Table of(JsonNode rows, List<Column> columns) {
    Table t = new Table(columns.stream().map(Column::header).toArray(String[]::new));
    for (JsonNode n : rows) {
      t.row(columns.stream().map(c -> c.cell().apply(n)).toArray());
    }
    return t;
  }

  /** What an empty cell shows. */
  static final String NONE = "-";

  private static final Pattern NUMBER = Pattern.compile("-?[0-9][0-9,]*(\\.[0-9]+)?");

  private final String[] headers;
  private final List<String[]> rows = new ArrayList<>();

  Table(String... headers) {
    this.headers = headers.clone();
  }

  /** Adds a row; a table with headers takes exactly one cell per header. */
  Table row(Object... cells) {
    if (headers.length > 0 && cells.length != headers.length) {
      throw new IllegalArgumentException(
          "a row needs " + headers.length + " cells: got " + Arrays.toString(cells));
    }
    String[] r = new String[cells.length];
    for (int i = 0; i < cells.length; i++) {
      r[i] = cells[i] == null || cells[i].toString().isEmpty() ? NONE : cells[i].toString();
    }
    rows.add(r);
    return this;
  }

  boolean isEmpty() {
    return rows.isEmpty();
  }

  void print(PrintWriter out) {
    out.print(render());
    out.flush();
  }

  /** Prints the table, or the line {@code none} when it has no rows. */
  void print(PrintWriter out, String none) {
    if (rows.isEmpty()) {
      out.println(none);
      out.flush();
    } else {
      print(out);
    }
  }

  String render() {
    int columns = headers.length;
    for (String[] r : rows) {
      columns = Math.max(columns, r.length);
    }
    int[] width = new int[columns];
    boolean[] right = new boolean[columns];
    for (int c = 0; c < columns; c++) {
      boolean numeric = headers.length > 0;
      boolean any = false;
      if (c < headers.length) {
        width[c] = headers[c].length();
      }
      for (String[] r : rows) {
        String cell = c < r.length ? r[c] : "";
        width[c] = Math.max(width[c], cell.length());
        if (!cell.equals(NONE) && !cell.isEmpty()) {
          any = true;
          numeric &= NUMBER.matcher(cell).matches();
        }
      }
      right[c] = numeric && any;
    }
    StringBuilder s = new StringBuilder();
    if (headers.length > 0) {
      line(s, headers, width, right);
    }
    for (String[] r : rows) {
      line(s, r, width, right);
    }
    return s.toString();
  }

  private static void line(StringBuilder s, String[] cells, int[] width, boolean[] right) {
    StringBuilder l = new StringBuilder();
    for (int c = 0; c < width.length; c++) {
      String cell = c < cells.length ? cells[c] : "";
      if (c > 0) {
        l.append("  ");
      }
      String pad = " ".repeat(width[c] - cell.length());
      l.append(right[c] ? pad + cell : cell + pad);
    }
    s.append(l.toString().stripTrailing()).append('\n');
  }
}
