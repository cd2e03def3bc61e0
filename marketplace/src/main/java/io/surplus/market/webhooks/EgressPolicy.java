package io.surplus.market.webhooks;

import com.typesafe.config.Config;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * Where webhooks may go. A webhook URL is the one place where a caller makes the service open a
 * connection of the caller's choosing, so every URL is checked when it is set and every address
 * again right before the service connects to it (DNS can change between the two).
 *
 * <p>It promises: only {@code https} (and {@code http} when {@link Settings#allowHttp}), no
 * credentials in the URL, only the ports of {@link Settings#allowedPorts}, never a cloud metadata
 * name or address, and a host whose every address is public: not loopback, link-local, private
 * (10/8, 172.16/12, 192.168/16, fc00::/7, fec0::/10), shared (100.64/10), multicast, unspecified,
 * reserved, nor any of these inside an IPv6 form that carries an IPv4 address (mapped, compatible,
 * NAT64, 6to4). {@link Settings#allowPrivate} lets development and tests reach loopback and private
 * ranges; link-local, metadata, multicast and unspecified addresses stay refused even then.
 *
 * <p>{@link #resolve} is the one place that turns a name into an address: its caller connects to
 * the address it returns, never to the name, so what was checked is what is reached.
 */
public final class EgressPolicy {

  /** Configuration key of the policy's section. */
  public static final String CONFIG = "surplus.webhooks.egress";

  /** Ports a webhook may use unless configured otherwise. */
  public static final List<Integer> DEFAULT_PORTS = List.of(443, 8443, 80, 8080);

  /**
   * The policy's settings.
   *
   * @param allowHttp {@code http} besides {@code https} (default false)
   * @param allowPrivate loopback and private ranges too, for development and tests (default false)
   * @param allowedPorts the ports a webhook may use (default {@link #DEFAULT_PORTS})
   */
  public record Settings(boolean allowHttp, boolean allowPrivate, Set<Integer> allowedPorts) {

    public Settings {
      allowedPorts = Set.copyOf(allowedPorts);
    }

    /** The strict policy: https only, public addresses only, the default ports. */
    public static Settings strict() {
      return new Settings(false, false, Set.copyOf(DEFAULT_PORTS));
    }

    public static Settings from(Config root) {
      Config c = root.getConfig(CONFIG);
      return new Settings(
          c.getBoolean("allow-http"),
          c.getBoolean("allow-private"),
          Set.copyOf(c.getIntList("allowed-ports")));
    }
  }

  /** Why a URL or an address is refused; {@link #ALLOWED} when it is not. */
  public enum Rule {
    ALLOWED("allowed"),
    NOT_A_URL("url must be an absolute URL with a host"),
    SCHEME("url must use https"),
    CREDENTIALS("url must not carry credentials (user:password@)"),
    PORT("url's port is not one webhooks may use"),
    METADATA("url must not reach a cloud metadata service"),
    UNSPECIFIED("url must not name an unspecified address (0.0.0.0, ::)"),
    LOOPBACK("url must not reach a loopback address"),
    LINK_LOCAL("url must not reach a link-local address"),
    PRIVATE("url must not reach a private address"),
    SHARED("url must not reach a shared (carrier-grade NAT) address"),
    MULTICAST("url must not reach a multicast address"),
    RESERVED("url must not reach a reserved address"),
    /**
     * A host name that does not resolve, or resolves to any refused address: one rule for both, so
     * that the answer does not tell a caller which internal names exist.
     */
    NOT_PUBLIC("url's host must resolve to public addresses only");

    private final String detail;

    Rule(String detail) {
      this.detail = detail;
    }

    /** A sentence for the caller; names the rule, never what a name resolved to. */
    public String detail() {
      return detail;
    }

    /** The rule's name as the API shows it: {@code link-local}, {@code not-public}. */
    public String slug() {
      return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
  }

  /** A URL as the policy read it: where a delivery goes, before any name is resolved. */
  public record Target(String scheme, String host, int port, String pathAndQuery) {

    /** The URL to send to, rebuilt from what was checked (no user info, no fragment). */
    public String url() {
      String h = host.indexOf(':') >= 0 ? "[" + host + "]" : host;
      return scheme + "://" + h + ":" + port + pathAndQuery;
    }
  }

  /** The outcome of a check: the rule that refused, or {@link Rule#ALLOWED} with what passed. */
  public record Verdict(Rule rule, Target target, InetSocketAddress address) {

    public boolean allowed() {
      return rule == Rule.ALLOWED;
    }

    /** The sentence a caller sees, with the allowed ports when the port was refused. */
    public String detail(Settings settings) {
      if (rule == Rule.PORT) {
        return rule.detail() + "; allowed: " + new TreeSet<>(settings.allowedPorts());
      }
      if (rule == Rule.SCHEME && settings.allowHttp()) {
        return "url must use http or https";
      }
      return rule.detail();
    }

    static Verdict refused(Rule rule) {
      return new Verdict(rule, null, null);
    }
  }

  /** Turns a host name into its addresses; the system resolver, or a fixed table in tests. */
  @FunctionalInterface
  public interface Resolver {
    InetAddress[] resolve(String host) throws UnknownHostException;
  }

  /**
   * Host names of metadata services (GCP, AWS, Azure, Alibaba, OpenStack and others), compared
   * after lower-casing and dropping a trailing dot.
   */
  static final Set<String> METADATA_NAMES =
      Set.of(
          "metadata",
          "metadata.google.internal",
          "metadata.goog",
          "metadata.azure.com",
          "instance-data",
          "instance-data.ec2.internal",
          "metadata.tencentyun.com",
          "metadata.platformequinix.com");

  /**
   * Addresses of metadata services: AWS, GCP, Azure, OpenStack (169.254.169.254), AWS ECS task
   * metadata (169.254.170.2), AWS IMDS over IPv6 (fd00:ec2::254), Alibaba (100.100.100.200),
   * Azure's wire server (168.63.129.16, a public address), Oracle (192.0.0.192).
   */
  static final Set<InetAddress> METADATA_ADDRESSES =
      Set.of(
          literal("169.254.169.254"),
          literal("169.254.170.2"),
          literal("fd00:ec2::254"),
          literal("100.100.100.200"),
          literal("168.63.129.16"),
          literal("192.0.0.192"));

  private final Settings settings;
  private final Resolver resolver;

  public EgressPolicy(Settings settings, Resolver resolver) {
    this.settings = settings;
    this.resolver = resolver;
  }

  /** The policy with the system's resolver. */
  public EgressPolicy(Settings settings) {
    this(settings, InetAddress::getAllByName);
  }

  public Settings settings() {
    return settings;
  }

  /**
   * Checks what can be checked without resolving: scheme, credentials, port, metadata names, and
   * the address itself when the host is an IP literal. Does no I/O.
   */
  public Verdict parse(String url) {
    if (url == null || url.length() > 2000) {
      return Verdict.refused(Rule.NOT_A_URL);
    }
    URI uri;
    try {
      uri = new URI(url);
    } catch (URISyntaxException e) {
      return Verdict.refused(Rule.NOT_A_URL);
    }
    if (!uri.isAbsolute()) {
      return Verdict.refused(Rule.NOT_A_URL);
    }
    String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("https") && !(settings.allowHttp() && scheme.equals("http"))) {
      return Verdict.refused(Rule.SCHEME);
    }
    if (uri.isOpaque() || uri.getRawAuthority() == null) {
      return Verdict.refused(Rule.NOT_A_URL);
    }
    // an authority that java.net.URI cannot split (a user info it will not parse, say) leaves no
    // host: refuse rather than guess what another parser would make of it
    if (uri.getRawUserInfo() != null || uri.getRawAuthority().indexOf('@') >= 0) {
      return Verdict.refused(Rule.CREDENTIALS);
    }
    if (uri.getHost() == null || uri.getHost().isEmpty()) {
      return Verdict.refused(Rule.NOT_A_URL);
    }
    int port = uri.getPort() >= 0 ? uri.getPort() : scheme.equals("https") ? 443 : 80;
    if (!settings.allowedPorts().contains(port)) {
      return Verdict.refused(Rule.PORT);
    }
    String host = hostOf(uri.getHost());
    String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
    String query = uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery();
    Target target = new Target(scheme, host, port, path + query);
    Verdict v = withoutDns(host, port, target);
    return v != null ? v : new Verdict(Rule.ALLOWED, target, null);
  }

  /**
   * The verdict on a host that needs no DNS (empty, a metadata name, an IP literal, a numeric host
   * that is no literal), or null for a name to resolve.
   */
  private Verdict withoutDns(String host, int port, Target target) {
    if (host.isEmpty()) {
      return Verdict.refused(Rule.NOT_A_URL);
    }
    if (METADATA_NAMES.contains(host)) {
      return Verdict.refused(Rule.METADATA);
    }
    InetAddress literal = literalOrNull(host);
    if (literal != null) {
      Rule r = rule(literal);
      return r == Rule.ALLOWED
          ? new Verdict(Rule.ALLOWED, target, new InetSocketAddress(literal, port))
          : Verdict.refused(r);
    }
    if (numeric(host) || host.indexOf(':') >= 0) {
      return Verdict.refused(Rule.NOT_A_URL);
    }
    return null;
  }

  /**
   * The whole check: {@link #parse}, then resolves the host (blocking) and refuses it unless every
   * address is allowed; the verdict's address is the one to connect to.
   */
  public Verdict check(String url) {
    Verdict v = parse(url);
    if (!v.allowed() || v.address() != null) {
      return v;
    }
    Verdict r = resolve(v.target().host(), v.target().port());
    return r.allowed() ? new Verdict(Rule.ALLOWED, v.target(), r.address()) : r;
  }

  /**
   * Resolves {@code host} once (blocking) and answers the address to connect to, or the rule that
   * refuses it: a host with any refused address is refused whole, so a name that answers a public
   * and a private address cannot reach the private one on a later connection.
   */
  public Verdict resolve(String host, int port) {
    if (!settings.allowedPorts().contains(port)) {
      return Verdict.refused(Rule.PORT);
    }
    String h = hostOf(host);
    Verdict known = withoutDns(h, port, null);
    if (known != null) {
      return known;
    }
    InetAddress[] all;
    try {
      all = resolver.resolve(h);
    } catch (UnknownHostException | SecurityException e) {
      return Verdict.refused(Rule.NOT_PUBLIC);
    }
    if (all == null || all.length == 0) {
      return Verdict.refused(Rule.NOT_PUBLIC);
    }
    for (InetAddress a : all) {
      if (rule(a) != Rule.ALLOWED) {
        return Verdict.refused(Rule.NOT_PUBLIC);
      }
    }
    return new Verdict(Rule.ALLOWED, null, new InetSocketAddress(all[0], port));
  }

  /** The rule an address falls under with this policy's settings. */
  public Rule rule(InetAddress a) {
    Rule r = classify(a);
    boolean privateAllowed =
        settings.allowPrivate()
            && (r == Rule.LOOPBACK || r == Rule.PRIVATE || r == Rule.SHARED)
            && !METADATA_ADDRESSES.contains(a);
    return privateAllowed ? Rule.ALLOWED : r;
  }

  /**
   * What an address is, whatever the settings: {@link Rule#ALLOWED} for a public unicast address.
   */
  public static Rule classify(InetAddress a) {
    if (METADATA_ADDRESSES.contains(a)) {
      return Rule.METADATA;
    }
    byte[] b = a.getAddress();
    if (a instanceof Inet4Address) {
      return classify4(b, 0);
    }
    if (!(a instanceof Inet6Address) || b.length != 16) {
      return Rule.RESERVED;
    }
    return classify6(b);
  }

  private static Rule classify6(byte[] b) {
    boolean zeroTo10 = true;
    for (int i = 0; i < 10; i++) {
      zeroTo10 &= b[i] == 0;
    }
    int w5 = u(b[10]) << 8 | u(b[11]);
    boolean zeroTo12 = zeroTo10 && w5 == 0;
    if (zeroTo12) {
      int last = u(b[12]) << 24 | u(b[13]) << 16 | u(b[14]) << 8 | u(b[15]);
      if (last == 0) {
        return Rule.UNSPECIFIED;
      }
      if (last == 1) {
        return Rule.LOOPBACK;
      }
      // IPv4-compatible ::a.b.c.d (deprecated, still routed by some stacks)
      return embedded(b, 12);
    }
    if (zeroTo10 && w5 == 0xffff) {
      // IPv4-mapped ::ffff:a.b.c.d (java.net turns most of these into Inet4Address already)
      return embedded(b, 12);
    }
    int w0 = u(b[0]) << 8 | u(b[1]);
    int w1 = u(b[2]) << 8 | u(b[3]);
    // NAT64 64:ff9b::/96 and the local-use 64:ff9b:1::/48 carry an IPv4 address at the end
    if (w0 == 0x0064 && w1 == 0xff9b) {
      return embedded(b, 12);
    }
    if (w0 == 0x0064 && w1 == 0xff9b + 1) {
      return Rule.RESERVED;
    }
    // 6to4 2002::/16 carries one in bytes 2-5
    if (w0 == 0x2002) {
      return embedded(b, 2);
    }
    // Teredo 2001::/32 hides its IPv4 address (obfuscated): refuse the range
    if (w0 == 0x2001 && w1 == 0) {
      return Rule.RESERVED;
    }
    if ((b[0] & 0xfe) == 0xfc) {
      return Rule.PRIVATE; // fc00::/7, unique local
    }
    if (u(b[0]) == 0xfe && (b[1] & 0xc0) == 0x80) {
      return Rule.LINK_LOCAL; // fe80::/10
    }
    if (u(b[0]) == 0xfe && (b[1] & 0xc0) == 0xc0) {
      return Rule.PRIVATE; // fec0::/10, the old site-local
    }
    if (u(b[0]) == 0xff) {
      return Rule.MULTICAST;
    }
    // 2001:db8::/32 documentation, 100::/64 discard
    if (w0 == 0x2001 && w1 == 0x0db8) {
      return Rule.RESERVED;
    }
    if (w0 == 0x0100 && w1 == 0 && b[4] == 0 && b[5] == 0 && b[6] == 0 && b[7] == 0) {
      return Rule.RESERVED;
    }
    return Rule.ALLOWED;
  }

  private static Rule embedded(byte[] b, int at) {
    Rule r = classify4(b, at);
    if (r != Rule.ALLOWED) {
      return r;
    }
    byte[] v4 = {b[at], b[at + 1], b[at + 2], b[at + 3]};
    try {
      return METADATA_ADDRESSES.contains(InetAddress.getByAddress(v4)) ? Rule.METADATA : r;
    } catch (UnknownHostException e) {
      throw new IllegalStateException("four bytes are an IPv4 address", e);
    }
  }

  private static Rule classify4(byte[] b, int at) {
    int a0 = u(b[at]);
    int a1 = u(b[at + 1]);
    int a2 = u(b[at + 2]);
    if (a0 == 0) {
      return Rule.UNSPECIFIED; // 0.0.0.0/8, "this network"
    }
    if (a0 == 127) {
      return Rule.LOOPBACK;
    }
    if (a0 == 10 || (a0 == 172 && (a1 & 0xf0) == 16) || (a0 == 192 && a1 == 168)) {
      return Rule.PRIVATE;
    }
    if (a0 == 100 && (a1 & 0xc0) == 64) {
      return Rule.SHARED; // 100.64/10
    }
    if (a0 == 169 && a1 == 254) {
      return Rule.LINK_LOCAL;
    }
    if (a0 >= 224 && a0 <= 239) {
      return Rule.MULTICAST;
    }
    if (a0 >= 240) {
      return Rule.RESERVED; // 240/4 and the broadcast address
    }
    // 192.0.0/24 protocol assignments, 192.0.2/24, 198.51.100/24, 203.0.113/24 documentation,
    // 198.18/15 benchmarking
    if ((a0 == 192 && a1 == 0 && (a2 == 0 || a2 == 2))
        || (a0 == 198 && a1 == 51 && a2 == 100)
        || (a0 == 203 && a1 == 0 && a2 == 113)
        || (a0 == 198 && (a1 & 0xfe) == 18)) {
      return Rule.RESERVED;
    }
    return Rule.ALLOWED;
  }

  private static int u(byte b) {
    return b & 0xff;
  }

  /** Lower case, brackets and one trailing dot dropped: the form names are compared in. */
  static String hostOf(String host) {
    String h = host.toLowerCase(Locale.ROOT);
    if (h.startsWith("[") && h.endsWith("]")) {
      h = h.substring(1, h.length() - 1);
    }
    if (h.endsWith(".")) {
      h = h.substring(0, h.length() - 1);
    }
    return h;
  }

  /**
   * The address if {@code host} is an IP literal, else null; never touches DNS. IPv4 comes in the
   * old shorter forms too ({@code 127.1}, {@code 2130706433}: the last part fills the remaining
   * bytes), since resolvers accept them; a part with a leading zero, which some read as octal, is
   * no literal, and {@link #parse} refuses a numeric host that is no literal.
   */
  static InetAddress literalOrNull(String host) {
    try {
      if (host.indexOf(':') >= 0) {
        // a bracketed IPv6 literal is parsed without a lookup, and refused if malformed
        return InetAddress.getByName("[" + host + "]");
      }
      byte[] v4 = ipv4(host);
      return v4 == null ? null : InetAddress.getByAddress(v4);
    } catch (UnknownHostException e) {
      return null;
    }
  }

  /** True if {@code host} is only digits and dots: no DNS name looks like that. */
  static boolean numeric(String host) {
    for (int i = 0; i < host.length(); i++) {
      char c = host.charAt(i);
      if ((c < '0' || c > '9') && c != '.') {
        return false;
      }
    }
    return !host.isEmpty();
  }

  private static byte[] ipv4(String host) {
    if (!numeric(host) || host.startsWith(".") || host.endsWith(".") || host.length() > 15) {
      return null;
    }
    String[] parts = host.split("\\.");
    if (parts.length > 4) {
      return null;
    }
    long[] values = new long[parts.length];
    for (int i = 0; i < parts.length; i++) {
      String p = parts[i];
      if (p.isEmpty() || p.length() > 10 || (p.length() > 1 && p.charAt(0) == '0')) {
        return null;
      }
      values[i] = Long.parseLong(p);
    }
    int last = parts.length - 1;
    for (int i = 0; i < last; i++) {
      if (values[i] > 255) {
        return null;
      }
    }
    if (values[last] >= 1L << (8 * (4 - last))) {
      return null;
    }
    byte[] b = new byte[4];
    for (int i = 0; i < last; i++) {
      b[i] = (byte) values[i];
    }
    for (int i = 3; i >= last; i--) {
      b[i] = (byte) (values[last] >>> (8 * (3 - i)));
    }
    return b;
  }

  private static InetAddress literal(String ip) {
    InetAddress a = literalOrNull(ip);
    if (a == null) {
      throw new IllegalArgumentException("not an IP literal: " + ip);
    }
    return a;
  }
}
