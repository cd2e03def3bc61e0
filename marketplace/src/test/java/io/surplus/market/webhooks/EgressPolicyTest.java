package io.surplus.market.webhooks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.surplus.market.webhooks.EgressPolicy.Rule;
import io.surplus.market.webhooks.EgressPolicy.Settings;
import io.surplus.market.webhooks.EgressPolicy.Verdict;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

/**
 * The egress policy on URLs and addresses: what each rule refuses, the IPv6 forms that carry an
 * IPv4 address, the development switch, and a host whose DNS answer changes between two checks.
 * Nothing here touches DNS: names resolve through a table.
 */
class EgressPolicyTest {

  static InetAddress ip(String literal) {
    InetAddress a = EgressPolicy.literalOrNull(literal);
    if (a == null) {
      throw new IllegalArgumentException("not a literal: " + literal);
    }
    return a;
  }

  /** A resolver over a fixed table; an unknown name does not resolve. */
  static EgressPolicy.Resolver table(Map<String, List<String>> names) {
    return host -> {
      List<String> ips = names.get(host);
      if (ips == null) {
        throw new UnknownHostException(host);
      }
      return ips.stream().map(EgressPolicyTest::ip).toArray(InetAddress[]::new);
    };
  }

  static final EgressPolicy.Resolver DNS =
      table(
          Map.of(
              "hooks.example.com", List.of("93.184.215.14"),
              "localhost", List.of("127.0.0.1", "::1"),
              "internal.example.com", List.of("10.0.0.7"),
              "split.example.com", List.of("93.184.215.14", "192.168.0.10")));

  final EgressPolicy strict = new EgressPolicy(Settings.strict(), DNS);

  @Test
  void shouldAllowAnHttpsUrlWhoseHostIsPublicAndConnectToTheAddressItChecked() {
    Verdict v = strict.check("https://hooks.example.com/notify?x=1#frag");
    assertEquals(Rule.ALLOWED, v.rule());
    assertEquals(new InetSocketAddress(ip("93.184.215.14"), 443), v.address());
    assertEquals("https://hooks.example.com:443/notify?x=1", v.target().url());
  }

  @Test
  void shouldRefuseEachRuleByName() {
    Map<String, Rule> cases =
        Map.ofEntries(
            Map.entry("http://hooks.example.com/", Rule.SCHEME),
            Map.entry("ftp://hooks.example.com/", Rule.SCHEME),
            Map.entry("file:///etc/passwd", Rule.SCHEME),
            Map.entry("https:opaque", Rule.NOT_A_URL),
            Map.entry("not a url", Rule.NOT_A_URL),
            Map.entry("https://user:pass@hooks.example.com/", Rule.CREDENTIALS),
            Map.entry("https://user@hooks.example.com/", Rule.CREDENTIALS),
            Map.entry("https://hooks.example.com:99999/", Rule.PORT),
            Map.entry("https://hooks.example.com:9142/", Rule.PORT),
            Map.entry("https://hooks.example.com:25520/", Rule.PORT),
            Map.entry("https://metadata.google.internal/", Rule.METADATA),
            Map.entry("https://Metadata.Google.Internal./", Rule.METADATA),
            Map.entry("https://169.254.169.254/latest/", Rule.METADATA),
            Map.entry("https://[fd00:ec2::254]/", Rule.METADATA),
            Map.entry("https://168.63.129.16/", Rule.METADATA),
            Map.entry("https://127.0.0.1/", Rule.LOOPBACK),
            // java.net.URI finds no host in 127.1 (its last label is not a top label)
            Map.entry("https://127.1/", Rule.NOT_A_URL),
            Map.entry("https://2130706433/", Rule.LOOPBACK),
            Map.entry("https://[::1]/", Rule.LOOPBACK),
            Map.entry("https://[::ffff:127.0.0.1]/", Rule.LOOPBACK),
            Map.entry("https://[::127.0.0.1]/", Rule.LOOPBACK),
            Map.entry("https://[64:ff9b::a00:1]/", Rule.PRIVATE),
            Map.entry("https://[2002:c0a8:101::1]/", Rule.PRIVATE),
            Map.entry("https://[::ffff:169.254.169.254]/", Rule.METADATA),
            Map.entry("https://169.254.1.1/", Rule.LINK_LOCAL),
            Map.entry("https://[fe80::1]/", Rule.LINK_LOCAL),
            Map.entry("https://10.0.0.1/", Rule.PRIVATE),
            Map.entry("https://172.31.255.255/", Rule.PRIVATE),
            Map.entry("https://192.168.0.1/", Rule.PRIVATE),
            Map.entry("https://[fc00::1]/", Rule.PRIVATE),
            Map.entry("https://100.64.0.1/", Rule.SHARED),
            Map.entry("https://100.127.255.255/", Rule.SHARED),
            Map.entry("https://224.0.0.1/", Rule.MULTICAST),
            Map.entry("https://[ff02::1]/", Rule.MULTICAST),
            Map.entry("https://0.0.0.0/", Rule.UNSPECIFIED),
            Map.entry("https://[::]/", Rule.UNSPECIFIED),
            Map.entry("https://255.255.255.255/", Rule.RESERVED),
            Map.entry("https://0177.0.0.1/", Rule.NOT_A_URL),
            Map.entry("https://1.2.3.4.5/", Rule.NOT_A_URL),
            Map.entry("https://localhost/", Rule.NOT_PUBLIC),
            Map.entry("https://internal.example.com/", Rule.NOT_PUBLIC),
            Map.entry("https://split.example.com/", Rule.NOT_PUBLIC),
            Map.entry("https://nowhere.example.com/", Rule.NOT_PUBLIC));
    cases.forEach((url, rule) -> assertEquals(rule, strict.check(url).rule(), url));
    // the transport's resolver reads the short forms as a resolver would
    assertEquals(Rule.LOOPBACK, strict.resolve("127.1", 443).rule());
    assertEquals(Rule.LOOPBACK, strict.resolve("[::1]", 443).rule());
    assertEquals(Rule.PORT, strict.resolve("hooks.example.com", 9142).rule());
    assertEquals(Rule.METADATA, strict.resolve("metadata.google.internal", 443).rule());
  }

  @Test
  void shouldGiveOneAnswerForANameThatDoesNotResolveAndOneThatResolvesInside() {
    assertEquals(
        strict.check("https://nowhere.example.com/").detail(strict.settings()),
        strict.check("https://internal.example.com/").detail(strict.settings()));
  }

  @Test
  void shouldNameTheAllowedPortsWhenThePortIsRefused() {
    String detail = strict.check("https://hooks.example.com:9142/").detail(strict.settings());
    assertTrue(detail.contains("[80, 443, 8080, 8443]"), detail);
  }

  @Test
  void shouldLetDevelopmentReachLoopbackAndPrivateButNeverMetadataOrLinkLocal() {
    EgressPolicy dev =
        new EgressPolicy(new Settings(true, true, Set.of(80, 443, 8080, 8443, 18080)), DNS);
    assertTrue(dev.check("http://127.0.0.1:18080/hook").allowed());
    assertTrue(dev.check("http://localhost:8080/hook").allowed());
    assertTrue(dev.check("https://10.0.0.1/").allowed());
    assertTrue(dev.check("https://100.64.0.1/").allowed());
    assertTrue(dev.check("https://[fd00::1]/").allowed());
    assertEquals(Rule.METADATA, dev.check("http://169.254.169.254/").rule());
    assertEquals(Rule.METADATA, dev.check("http://[fd00:ec2::254]/").rule());
    assertEquals(Rule.METADATA, dev.check("http://100.100.100.200/").rule());
    assertEquals(Rule.LINK_LOCAL, dev.check("http://169.254.10.10/").rule());
    assertEquals(Rule.UNSPECIFIED, dev.check("http://0.0.0.0/").rule());
    assertEquals(Rule.MULTICAST, dev.check("http://239.1.1.1/").rule());
    assertEquals(Rule.PORT, dev.check("http://127.0.0.1:9142/").rule());
    assertEquals(Rule.CREDENTIALS, dev.check("http://a:b@127.0.0.1/").rule());
  }

  @Test
  void shouldCheckTheAnswerOfTheMomentWhenDnsChanges() {
    AtomicReference<String> answer = new AtomicReference<>("93.184.215.14");
    EgressPolicy policy =
        new EgressPolicy(Settings.strict(), host -> new InetAddress[] {ip(answer.get())});
    Verdict first = policy.check("https://rebind.example.com/");
    assertTrue(first.allowed());
    assertEquals(ip("93.184.215.14"), first.address().getAddress());
    answer.set("127.0.0.1");
    Verdict later = policy.resolve("rebind.example.com", 443);
    assertFalse(later.allowed());
    assertEquals(Rule.NOT_PUBLIC, later.rule());
    assertNull(later.address(), "a refused verdict gives nothing to connect to");
  }

  @Test
  void shouldReadShortIpv4FormsAsResolversDo() {
    assertEquals(ip("127.0.0.1"), EgressPolicy.literalOrNull("127.1"));
    assertEquals(ip("10.0.1.2"), EgressPolicy.literalOrNull("10.258"));
    assertEquals(ip("1.2.3.4"), EgressPolicy.literalOrNull("16909060"));
    assertNull(EgressPolicy.literalOrNull("4294967296"));
    assertNull(EgressPolicy.literalOrNull("01.2.3.4"));
    assertNull(EgressPolicy.literalOrNull("hooks.example.com"));
  }

  // properties over random addresses

  @Provide
  Arbitrary<byte[]> ipv4() {
    return Arbitraries.bytes().array(byte[].class).ofSize(4);
  }

  static int u(byte b) {
    return b & 0xff;
  }

  /** The internal ranges written out once more, from the RFCs, apart from the policy's code. */
  static boolean internal4(byte[] b) {
    int a0 = u(b[0]);
    int a1 = u(b[1]);
    return a0 == 0
        || a0 == 10
        || a0 == 127
        || (a0 == 100 && a1 >= 64 && a1 <= 127)
        || (a0 == 169 && a1 == 254)
        || (a0 == 172 && a1 >= 16 && a1 <= 31)
        || (a0 == 192 && a1 == 168)
        || a0 >= 224;
  }

  @Property(tries = 2000)
  void everyInternalIpv4AddressIsRefusedAndSoAreItsIpv6Forms(@ForAll("ipv4") byte[] b)
      throws UnknownHostException {
    InetAddress v4 = InetAddress.getByAddress(b);
    byte[] mapped = new byte[16];
    mapped[10] = (byte) 0xff;
    mapped[11] = (byte) 0xff;
    System.arraycopy(b, 0, mapped, 12, 4);
    byte[] nat64 = new byte[16];
    nat64[1] = 0x64;
    nat64[2] = (byte) 0xff;
    nat64[3] = (byte) 0x9b;
    System.arraycopy(b, 0, nat64, 12, 4);
    byte[] sixToFour = new byte[16];
    sixToFour[0] = 0x20;
    sixToFour[1] = 0x02;
    System.arraycopy(b, 0, sixToFour, 2, 4);
    sixToFour[15] = 1;
    Rule plain = EgressPolicy.classify(v4);
    if (internal4(b)) {
      assertFalse(plain == Rule.ALLOWED, v4.toString());
    }
    assertEquals(plain, EgressPolicy.classify(InetAddress.getByAddress(mapped)), "mapped " + v4);
    assertEquals(plain, EgressPolicy.classify(InetAddress.getByAddress(nat64)), "NAT64 " + v4);
    assertEquals(plain, EgressPolicy.classify(InetAddress.getByAddress(sixToFour)), "6to4 " + v4);
  }

  @Property(tries = 2000)
  void theDevelopmentSwitchNeverOpensMetadataLinkLocalMulticastOrUnspecified(
      @ForAll("ipv4") byte[] b) throws UnknownHostException {
    InetAddress a = InetAddress.getByAddress(b);
    EgressPolicy dev = new EgressPolicy(new Settings(true, true, Set.of(443)), DNS);
    Rule r = EgressPolicy.classify(a);
    if (r == Rule.METADATA
        || r == Rule.LINK_LOCAL
        || r == Rule.MULTICAST
        || r == Rule.UNSPECIFIED
        || r == Rule.RESERVED) {
      assertEquals(r, dev.rule(a), a.toString());
    }
    if (r == Rule.ALLOWED) {
      assertEquals(Rule.ALLOWED, strict.rule(a), a.toString());
    }
  }

  @Property(tries = 1000)
  void aUrlWithCredentialsIsAlwaysRefused(
      @ForAll("userInfo") String user, @ForAll("hosts") String host) {
    assertEquals(Rule.CREDENTIALS, strict.check("https://" + user + "@" + host + "/").rule());
  }

  @Provide
  Arbitrary<String> userInfo() {
    return Arbitraries.strings().withChars("abcxyz019:._-").ofMinLength(1).ofMaxLength(12);
  }

  @Provide
  Arbitrary<String> hosts() {
    return Arbitraries.of(
        "hooks.example.com", "127.0.0.1", "169.254.169.254", "[::1]", "metadata.google.internal");
  }

  @Property(tries = 1000)
  void aPortOutsideTheListIsAlwaysRefused(@ForAll("ports") int port) {
    Rule r = strict.check("https://hooks.example.com:" + port + "/").rule();
    if (Settings.strict().allowedPorts().contains(port)) {
      assertEquals(Rule.ALLOWED, r);
    } else {
      assertFalse(r == Rule.ALLOWED, "port " + port);
    }
  }

  @Provide
  Arbitrary<Integer> ports() {
    return Arbitraries.oneOf(
        Arbitraries.integers().between(0, 70_000), Arbitraries.of(80, 443, 8080, 8443));
  }
}
