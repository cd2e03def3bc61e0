package io.surplus.feed.protocol;

/**
 * A line the feed refuses, naming the line, the JSON field and the rule it breaks: {@code
 * {"line":3,"field":"reservePrice","rule":"must have at most 6 decimals"}}.
 *
 * @param line 1-based line number within the body
 * @param field the JSON field name; {@code null} when the rule is about the whole line (too long,
 *     not JSON, not an object) or about the sequence rather than a field
 * @param rule what the value must be, as a short phrase a provider can act on
 */
public record FeedError(long line, String field, String rule) implements ParseResult {

  public FeedError {
    if (line <= 0) {
      throw new IllegalArgumentException("line must be > 0: line=" + line);
    }
    if (rule == null || rule.isEmpty()) {
      throw new IllegalArgumentException("rule must be set: rule=" + rule);
    }
  }

  /** Whether the rule concerns the whole line rather than one field. */
  public boolean wholeLine() {
    return field == null;
  }

  @Override
  public String toString() {
    return "line " + line + (field == null ? "" : ", field " + field) + ": " + rule;
  }
}
