package io.surplus.market.http;

import java.util.Optional;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.util.ByteString;

/** Entity tags for conditional GETs: a client that sends back the tag it has gets a 304. */
public final class EntityTags {

  private EntityTags() {}

  /**
   * The answer to {@code call} with JSON rendered once and its tag: a 304 when the client already
   * has that tag, else the bytes themselves. They are never written again, so every response shares
   * them (wrapped, not copied: the copies were a fifth of what the reads allocated at a full book).
   */
  public static HttpResponse json(Api.Call call, String etag, byte[] json, int length) {
    RawHeader tag = RawHeader.create("ETag", etag);
    Optional<String> ifNoneMatch = call.header("If-None-Match");
    if (ifNoneMatch.isPresent() && matches(ifNoneMatch.get(), etag)) {
      return HttpResponse.create().withStatus(StatusCodes.NOT_MODIFIED).addHeader(tag);
    }
    return HttpResponse.create()
        .withEntity(
            HttpEntities.create(
                ContentTypes.APPLICATION_JSON, ByteString.fromArrayUnsafe(json, 0, length)))
        .addHeader(tag);
  }

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
