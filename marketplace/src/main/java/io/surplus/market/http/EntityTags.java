package io.surplus.market.http;

/** Entity tags for conditional GETs: a client that sends back the tag it has gets a 304. */
public final class EntityTags {

  private EntityTags() {}

  /** True when an If-None-Match header lists {@code etag} (or is {@code *}). */
  public static boolean matches(String ifNoneMatch, String etag) {
    for (String tag : ifNoneMatch.split(",")) {
      String t = tag.strip();
      if (t.startsWith("W/")) {
        t = t.substring(2);
      }
      if (t.equals("*") || t.equals(etag)) {
        return true;
      }
    }
    return false;
  }
}
