package io.surplus.market.readside;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.JarURLConnection;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * One versioned schema file, {@code V<version>__<description>.cql}: CQL statements ended by {@code
 * ';'}, with {@code ${keyspace}} standing for the read side's keyspace and {@code --} lines as
 * comments. Versions are applied in ascending order, each once ({@link SchemaMigrator}).
 */
public record Migration(int version, String name, String cql) {

  /** Where the versioned files live on the class path. */
  public static final String SCHEMA_DIRECTORY = "schema";

  private static final Pattern FILE_NAME = Pattern.compile("V([0-9]{1,9})__[A-Za-z0-9_]+\\.cql");

  private static final String KEYSPACE_PLACEHOLDER = "${keyspace}";

  public Migration {
    if (version <= 0) {
      throw new IllegalArgumentException("version must be > 0: version=" + version);
    }
    if (name == null || cql == null) {
      throw new IllegalArgumentException("name and cql must be set: name=" + name);
    }
  }

  /** A migration named as a file would be, {@code V<version>__<description>.cql}. */
  public static Migration of(String fileName, String cql) {
    Matcher m = FILE_NAME.matcher(fileName);
    if (!m.matches()) {
      throw new IllegalArgumentException(
          "a schema file is named V<version>__<description>.cql: name=" + fileName);
    }
    return new Migration(Integer.parseInt(m.group(1)), fileName, cql);
  }

  /**
   * The statements, comments removed, {@code ${keyspace}} replaced, split on {@code ';'} (so a
   * statement must not hold a {@code ';'} inside a string literal).
   */
  public List<String> statements(String keyspace) {
    StringBuilder text = new StringBuilder(cql.length());
    for (String line : cql.split("\n", -1)) {
      if (!line.strip().startsWith("--")) {
        text.append(line).append('\n');
      }
    }
    List<String> out = new ArrayList<>();
    for (String statement : text.toString().replace(KEYSPACE_PLACEHOLDER, keyspace).split(";")) {
      if (!statement.isBlank()) {
        out.add(statement.strip());
      }
    }
    return out;
  }

  /** SHA-256 of the file's text, to notice a file edited after it was applied. */
  public String checksum() {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(cql.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }

  /** The versioned files under {@value #SCHEMA_DIRECTORY}/ on the class path, by version. */
  public static List<Migration> fromClasspath(ClassLoader loader) {
    Map<Integer, Migration> byVersion = new HashMap<>();
    try {
      Enumeration<URL> dirs = loader.getResources(SCHEMA_DIRECTORY);
      while (dirs.hasMoreElements()) {
        for (Migration m : readDirectory(dirs.nextElement())) {
          Migration other = byVersion.putIfAbsent(m.version(), m);
          if (other != null && !other.name().equals(m.name())) {
            throw new IllegalStateException(
                "two schema files share version "
                    + m.version()
                    + ": "
                    + other.name()
                    + ", "
                    + m.name());
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list the schema files", e);
    }
    List<Migration> all = new ArrayList<>(byVersion.values());
    all.sort(Comparator.comparingInt(Migration::version));
    return all;
  }

  private static List<Migration> readDirectory(URL dir) throws IOException {
    List<Migration> out = new ArrayList<>();
    switch (dir.getProtocol()) {
      case "file" -> {
        Path path;
        try {
          path = Path.of(dir.toURI());
        } catch (URISyntaxException e) {
          throw new IOException("not a directory: " + dir, e);
        }
        try (Stream<Path> files = Files.list(path)) {
          for (Path file : files.toList()) {
            String name = file.getFileName().toString();
            if (FILE_NAME.matcher(name).matches()) {
              out.add(Migration.of(name, Files.readString(file, StandardCharsets.UTF_8)));
            }
          }
        }
      }
      case "jar" -> {
        JarURLConnection connection = (JarURLConnection) dir.openConnection();
        connection.setUseCaches(false);
        try (JarFile jar = connection.getJarFile()) {
          for (JarEntry entry : jar.stream().toList()) {
            String entryName = entry.getName();
            if (!entryName.startsWith(SCHEMA_DIRECTORY + "/")) {
              continue;
            }
            String name = entryName.substring(SCHEMA_DIRECTORY.length() + 1);
            if (FILE_NAME.matcher(name).matches()) {
              try (InputStream in = jar.getInputStream(entry)) {
                out.add(Migration.of(name, new String(in.readAllBytes(), StandardCharsets.UTF_8)));
              }
            }
          }
        }
      }
      default -> throw new IOException("cannot list schema files at " + dir);
    }
    return out;
  }
}
