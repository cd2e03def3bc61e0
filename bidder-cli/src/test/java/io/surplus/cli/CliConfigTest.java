package io.surplus.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CliConfigTest {

  @TempDir Path home;

  Path file(String text) throws IOException {
    Path dir = Files.createDirectories(home.resolve(".config/surplus"));
    return Files.writeString(dir.resolve("cli.properties"), text);
  }

  @Test
  void shouldDefaultToTheLocalServiceAndNoKey() {
    CliConfig c = CliConfig.resolve(Map.of("HOME", home.toString()), null, null);
    assertEquals(URI.create("http://127.0.0.1:8080"), c.url());
    assertNull(c.key());
    assertEquals(home.resolve(".config/surplus/cli.properties"), c.file());
  }

  @Test
  void shouldPreferTheOptionThenTheEnvironmentThenTheFile() throws IOException {
    file("url=http://file:1\nkey=sk_1_file\n");
    Map<String, String> env = Map.of("HOME", home.toString());
    CliConfig fromFile = CliConfig.resolve(env, null, null);
    assertEquals(URI.create("http://file:1"), fromFile.url());
    assertEquals("sk_1_file", fromFile.key());
    assertTrue(fromFile.keySource().startsWith("key= in "), fromFile.keySource());

    Map<String, String> withEnv =
        Map.of(
            "HOME", home.toString(), "SURPLUS_URL", "http://env:2/", "SURPLUS_API_KEY", "sk_1_env");
    CliConfig fromEnv = CliConfig.resolve(withEnv, null, null);
    assertEquals(URI.create("http://env:2"), fromEnv.url());
    assertEquals("sk_1_env", fromEnv.key());
    assertEquals("the environment variable SURPLUS_API_KEY", fromEnv.keySource());

    assertEquals(
        URI.create("http://opt:3"), CliConfig.resolve(withEnv, "http://opt:3", null).url());
  }

  @Test
  void shouldReadTheFileNamedByTheOptionOrTheEnvironment() throws IOException {
    Path other = Files.writeString(home.resolve("other.properties"), "key=sk_2_other\n");
    assertEquals("sk_2_other", CliConfig.resolve(Map.of(), null, other).key());
    assertEquals(
        "sk_2_other",
        CliConfig.resolve(Map.of("SURPLUS_CONFIG", other.toString()), null, null).key());
  }

  @Test
  void shouldRefuseANamedFileThatIsMissingAndAFileWithUnknownSettings() throws IOException {
    CliError missing =
        assertThrows(CliError.class, () -> CliConfig.resolve(Map.of(), null, home.resolve("nope")));
    assertEquals(SurplusCli.USAGE, missing.exitCode());
    assertTrue(missing.getMessage().contains("does not exist"), missing.getMessage());

    file("url=http://x:1\nkye=sk_1_typo\n");
    CliError unknown =
        assertThrows(
            CliError.class, () -> CliConfig.resolve(Map.of("HOME", home.toString()), null, null));
    assertEquals(SurplusCli.USAGE, unknown.exitCode());
    assertTrue(unknown.getMessage().contains("[kye]"), unknown.getMessage());
  }

  @Test
  void shouldRefuseAUrlThatIsNotAServiceBase() {
    for (String bad : new String[] {"127.0.0.1:8080", "ftp://x", "http://x/v1", "http://x?a=b"}) {
      CliError e =
          assertThrows(
              CliError.class,
              () -> CliConfig.resolve(Map.of("HOME", home.toString()), bad, null),
              bad);
      assertEquals(SurplusCli.USAGE, e.exitCode(), bad);
      assertTrue(e.getMessage().contains(bad), e.getMessage());
    }
  }

  @Test
  void shouldSayHowToSetAMissingKey() {
    CliConfig c = CliConfig.resolve(Map.of("HOME", home.toString()), null, null);
    CliError e = assertThrows(CliError.class, c::requireKey);
    assertEquals(SurplusCli.USAGE, e.exitCode());
    assertTrue(
        e.getMessage().contains("SURPLUS_API_KEY") && e.getMessage().contains("cli.properties"),
        e.getMessage());
  }
}
