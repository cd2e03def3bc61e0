package io.surplus.market.board;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.conditional;
import static org.apache.pekko.http.javadsl.server.Directives.mapRequest;
import static org.apache.pekko.http.javadsl.server.Directives.respondWithHeaders;

import io.surplus.market.http.Api.Call;
import io.surplus.market.http.Api.Endpoint;
import io.surplus.market.http.Problem;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import java.util.zip.GZIPOutputStream;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpCharsets;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.headers.EntityTag;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * The web board, served from the class path: its page at {@code /}, its scripts and styles at
 * {@code /board/<file>} (from {@code board/} in the jar), and ECharts at {@code
 * /webjars/echarts/<version>/<file>} from the {@code org.webjars:echarts} jar. These routes sit in
 * the endpoint table like every other (so metrics, 404 problems and the OpenAPI check cover them),
 * and answer with the routing DSL's {@code conditional} and {@code respondWithHeaders} directives.
 * Not with {@code getFromResource}: its entity tag is a file's length and modification time, and a
 * jar built reproducibly gives every entry the same time, so a new release of the same length would
 * pass for the old one; here the tag is a hash of the bytes, and gzip is done once per file.
 *
 * <p>Promises: only flat file names of known types are served (a name is letters, digits, {@code
 * -}, {@code _} and single dots between them, so no {@code ..}, no slash, no hidden file); anything
 * else is a 404 problem document. The page and the board's own files are revalidated on every load
 * ({@code no-cache} with an {@code ETag}, answered {@code 304} when unchanged) so a new release
 * shows at once; ECharts, whose path carries its version, is cached for a year as immutable. Text
 * assets go gzipped to clients that accept it.
 */
public final class BoardRoutes {

  /** Where the board's files live on the class path. */
  static final String BOARD_RESOURCES = "board/";

  /** Where the ECharts webjar keeps its files, per version. */
  static final String ECHARTS_RESOURCES = "META-INF/resources/webjars/echarts/";

  /** The ECharts webjar's Maven metadata, which names its version. */
  static final String ECHARTS_POM = "META-INF/maven/org.webjars/echarts/pom.properties";

  /** In the page, replaced by the ECharts version on the class path. */
  static final String ECHARTS_VERSION_MARK = "{{echartsVersion}}";

  /** Cache-Control of the page and the board's own files: always revalidate. */
  static final String REVALIDATE = "no-cache";

  /** Cache-Control of versioned third-party files. */
  static final String IMMUTABLE = "public, max-age=31536000, immutable";

  /** The page's Content-Security-Policy: everything from this origin only, no inline script. */
  static final String CSP =
      "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self'"
          + " data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors"
          + " 'none'";

  /** Smallest text asset worth gzipping. */
  static final int GZIP_ABOVE = 1024;

  private static final Pattern FILE_NAME =
      Pattern.compile("[A-Za-z0-9][A-Za-z0-9_-]*(\\.[A-Za-z0-9_-]+)*");

  private static final Map<String, ContentType> TYPES =
      Map.of(
          "html", ContentTypes.TEXT_HTML_UTF8,
          "js", ContentTypes.parse("text/javascript; charset=UTF-8"),
          "mjs", ContentTypes.parse("text/javascript; charset=UTF-8"),
          "css", ContentTypes.create(MediaTypes.TEXT_CSS, HttpCharsets.UTF_8),
          "svg", ContentTypes.create(MediaTypes.IMAGE_SVG_XML),
          "png", ContentTypes.create(MediaTypes.IMAGE_PNG),
          "json", ContentTypes.APPLICATION_JSON,
          "map", ContentTypes.APPLICATION_JSON);

  /**
   * One file ready to send: its bytes, gzipped bytes if worth it (else null), its type, a hash of
   * its bytes for the entity tag, and its Cache-Control.
   */
  record Asset(byte[] bytes, byte[] gzipped, ContentType type, String hash, String cacheControl) {}

  private final String echartsVersion;
  private final Asset page;
  private final ConcurrentHashMap<String, Asset> loaded = new ConcurrentHashMap<>();

  public BoardRoutes() {
    this.echartsVersion = findEchartsVersion();
    byte[] html = resource(BOARD_RESOURCES + "index.html").orElseThrow(missing("index.html"));
    String text =
        new String(html, StandardCharsets.UTF_8).replace(ECHARTS_VERSION_MARK, echartsVersion);
    this.page = asset(text.getBytes(StandardCharsets.UTF_8), "html", REVALIDATE);
  }

  public List<Endpoint> endpoints() {
    return List.of(
        Endpoint.routed("GET", "/", Set.of(), c -> send(c, page, true)),
        Endpoint.routed("GET", "/board/{asset}", Set.of(), this::boardFile),
        Endpoint.routed("GET", "/webjars/echarts/{version}/{file}", Set.of(), this::echartsFile));
  }

  /** The ECharts version the board loads, as found on the class path. */
  public String echartsVersion() {
    return echartsVersion;
  }

  private static String findEchartsVersion() {
    byte[] pom = resource(ECHARTS_POM).orElseThrow(missing(ECHARTS_POM));
    Properties p = new Properties();
    try {
      p.load(new java.io.ByteArrayInputStream(pom));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    String v = p.getProperty("version");
    if (v == null || !FILE_NAME.matcher(v).matches()) {
      throw new IllegalStateException(ECHARTS_POM + " names no usable version: " + v);
    }
    return v;
  }

  private Route boardFile(Call call) {
    String name = call.param("asset");
    return send(
        call, file(BOARD_RESOURCES, name, REVALIDATE, "no board file '" + name + "'"), false);
  }

  private Route echartsFile(Call call) {
    String version = call.param("version");
    String name = call.param("file");
    String what = "no ECharts file '" + version + "/" + name + "'";
    if (!FILE_NAME.matcher(version).matches()) {
      throw Problem.notFound(what).failure();
    }
    return send(call, file(ECHARTS_RESOURCES + version + "/", name, IMMUTABLE, what), false);
  }

  /** A served file, or a 404 problem naming it. */
  private Asset file(String folder, String name, String cacheControl, String notFound) {
    int dot = name.lastIndexOf('.');
    ContentType type = dot < 0 ? null : TYPES.get(name.substring(dot + 1).toLowerCase(Locale.ROOT));
    if (!FILE_NAME.matcher(name).matches() || type == null) {
      throw Problem.notFound(notFound).failure();
    }
    String path = folder + name;
    Asset known = loaded.get(path);
    if (known != null) {
      return known;
    }
    byte[] bytes = resource(path).orElseThrow(() -> Problem.notFound(notFound).failure());
    Asset a = asset(bytes, name.substring(dot + 1).toLowerCase(Locale.ROOT), cacheControl);
    loaded.putIfAbsent(path, a);
    return a;
  }

  /**
   * The asset with its headers (also on a {@code 304}), answered {@code 304} by the {@code
   * conditional} directive when the client's {@code If-None-Match} names its tag.
   */
  private static Route send(Call call, Asset a, boolean page) {
    boolean gzip = a.gzipped() != null && acceptsGzip(call.header("Accept-Encoding"));
    // the gzipped bytes are another representation, so they get another tag
    EntityTag tag = EntityTag.create(a.hash() + (gzip ? "-gz" : ""), false);
    List<HttpHeader> headers =
        new java.util.ArrayList<>(
            List.of(
                RawHeader.create("Cache-Control", a.cacheControl()),
                RawHeader.create("X-Content-Type-Options", "nosniff")));
    if (a.gzipped() != null) {
      headers.add(RawHeader.create("Vary", "Accept-Encoding"));
    }
    if (page) {
      headers.add(RawHeader.create("Content-Security-Policy", CSP));
      headers.add(RawHeader.create("Referrer-Policy", "no-referrer"));
    }
    HttpResponse body =
        HttpResponse.create()
            .withEntity(HttpEntities.create(a.type(), gzip ? a.gzipped() : a.bytes()));
    // If-Match guards writes; conditional would answer it 412 where a file has nothing to guard
    return mapRequest(
        r -> r.removeHeader("If-Match"),
        () ->
            respondWithHeaders(
                headers,
                () ->
                    conditional(
                        tag,
                        () ->
                            complete(
                                gzip
                                    ? body.addHeader(RawHeader.create("Content-Encoding", "gzip"))
                                    : body))));
  }

  /** True when an Accept-Encoding header accepts gzip (listed without {@code q=0}). */
  static boolean acceptsGzip(Optional<String> acceptEncoding) {
    if (acceptEncoding.isEmpty()) {
      return false;
    }
    for (String part : acceptEncoding.get().split(",")) {
      String[] p = part.strip().split(";");
      if (p[0].strip().equalsIgnoreCase("gzip")) {
        for (int i = 1; i < p.length; i++) {
          String q = p[i].strip().replace(" ", "");
          if (q.equals("q=0") || q.matches("q=0\\.0*")) {
            return false;
          }
        }
        return true;
      }
    }
    return false;
  }

  private static Asset asset(byte[] bytes, String extension, String cacheControl) {
    ContentType type = TYPES.get(extension);
    boolean text = !extension.equals("png");
    byte[] gzipped = text && bytes.length > GZIP_ABOVE ? gzip(bytes) : null;
    return new Asset(bytes, gzipped, type, sha256(bytes), cacheControl);
  }

  private static String sha256(byte[] bytes) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(bytes);
      return HexFormat.of().formatHex(d, 0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] gzip(byte[] bytes) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(bytes.length / 3 + 64);
    try (GZIPOutputStream z = new GZIPOutputStream(out)) {
      z.write(bytes);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  private static Optional<byte[]> resource(String path) {
    try (InputStream in = BoardRoutes.class.getClassLoader().getResourceAsStream(path)) {
      return in == null ? Optional.empty() : Optional.of(in.readAllBytes());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static java.util.function.Supplier<IllegalStateException> missing(String what) {
    return () -> new IllegalStateException(what + " is missing from the class path");
  }
}
