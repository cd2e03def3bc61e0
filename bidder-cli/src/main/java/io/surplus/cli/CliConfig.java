package io.surplus.cli;

import java.io.IOException;
import java.io.Reader;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;

/**
 * Where the service is and which API key to send, resolved once per command from (first wins) the
 * {@code --url} option, the environment ({@code SURPLUS_URL}, {@code SURPLUS_API_KEY}) and a
 * properties file ({@code url=}, {@code key=}): {@code --config FILE}, else {@code
 * $SURPLUS_CONFIG}, else {@code $XDG_CONFIG_HOME/surplus/cli.properties}, else {@code
 * ~/.config/surplus/cli.properties}. A file named explicitly must exist; the default one may not.
 * {@code keySource} says where the key came from, for error messages.
 */
record CliConfig(URI url, String key, String keySource, Path file) {

  public static final String DEFAULT_URL = "http://127.0.0.1:8080";
  public static final String ENV_URL = "SURPLUS_URL";
  public static final String ENV_KEY = "SURPLUS_API_KEY";
  public static final String ENV_CONFIG = "SURPLUS_CONFIG";

  private static final Set<String> FILE_KEYS = Set.of("url", "key");

  static CliConfig resolve(Map<String, String> env, String urlOption, Path configOption) {
    Path file;
    boolean named;
    if (configOption != null) {
      file = configOption;
      named = true;
    } else if (present(env.get(ENV_CONFIG))) {
      file = Path.of(env.get(ENV_CONFIG));
      named = true;
    } else {
      file = defaultFile(env);
      named = false;
    }
    Properties props = read(file, named);

    String url = firstOf(urlOption, env.get(ENV_URL), props.getProperty("url"), DEFAULT_URL);
    String key;
    String keySource;
    if (present(env.get(ENV_KEY))) {
      key = env.get(ENV_KEY).strip();
      keySource = "the environment variable " + ENV_KEY;
    } else if (present(props.getProperty("key"))) {
      key = props.getProperty("key").strip();
      keySource = "key= in " + file;
    } else {
      key = null;
      keySource = null;
    }
    return new CliConfig(baseUrl(url), key, keySource, file);
  }

  /** The key, or a usage error saying how to give one. */
  String requireKey() {
    if (key == null) {
      throw CliError.usage(
          "no API key: set "
              + ENV_KEY
              + "=<your key>, or put key=<your key> in "
              + file
              + " (or name another file with --config)");
    }
    return key;
  }

  static Path defaultFile(Map<String, String> env) {
    if (present(env.get("XDG_CONFIG_HOME"))) {
      return Path.of(env.get("XDG_CONFIG_HOME"), "surplus", "cli.properties");
    }
    String home = present(env.get("HOME")) ? env.get("HOME") : System.getProperty("user.home");
    return Path.of(home, ".config", "surplus", "cli.properties");
  }

  private static Properties read(Path file, boolean named) {
    Properties props = new Properties();
    if (!Files.exists(file)) {
      if (named) {
        throw CliError.usage("the config file " + file + " does not exist");
      }
      return props;
    }
    try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      props.load(r);
    } catch (IOException | IllegalArgumentException e) {
      throw CliError.usage("cannot read the config file " + file + ": " + e.getMessage());
    }
    Set<String> unknown = new TreeSet<>(props.stringPropertyNames());
    unknown.removeAll(FILE_KEYS);
    if (!unknown.isEmpty()) {
      throw CliError.usage(
          "unknown setting " + unknown + " in " + file + "; known: " + new TreeSet<>(FILE_KEYS));
    }
    return props;
  }

  /** An http(s) URL with a host and no path, query or trailing slash. */
  static URI baseUrl(String text) {
    String t = text.strip();
    while (t.endsWith("/")) {
      t = t.substring(0, t.length() - 1);
    }
    try {
      URI u = new URI(t);
      if (!("http".equals(u.getScheme()) || "https".equals(u.getScheme()))
          || u.getHost() == null
          || !(u.getRawPath() == null || u.getRawPath().isEmpty())
          || u.getRawQuery() != null) {
        throw new URISyntaxException(text, "not a base URL");
      }
      return u;
    } catch (URISyntaxException e) {
      throw CliError.usage("the service URL must look like http://host:port, got '" + text + "'");
    }
  }

  private static String firstOf(String... values) {
    for (String v : values) {
      if (present(v)) {
        return v;
      }
    }
    return null;
  }

  private static boolean present(String s) {
    return s != null && !s.isBlank();
  }
}
