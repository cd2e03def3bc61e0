package io.surplus.market.accounts;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * API keys: {@code sk_<account>_<secret>}, with a 190-bit random secret. Only the SHA-256 of a key
 * is stored (a fast hash is right for random keys of this length: there is nothing to guess from a
 * dictionary); the account number in the clear lets the front find the entity that holds it.
 */
public final class ApiKeys {

  private static final char[] ALPHABET =
      "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".toCharArray();
  private static final int SECRET_LENGTH = 32;
  private static final SecureRandom RANDOM = new SecureRandom();

  private ApiKeys() {}

  public static String generate(long account) {
    StringBuilder b = new StringBuilder("sk_").append(account).append('_');
    for (int i = 0; i < SECRET_LENGTH; i++) {
      b.append(ALPHABET[RANDOM.nextInt(ALPHABET.length)]);
    }
    return b.toString();
  }

  /** The account a key names, or -1 if the key is not of the form {@code sk_<account>_<secret>}. */
  public static long accountOf(String key) {
    if (key == null || !key.startsWith("sk_") || key.length() > 128) {
      return -1;
    }
    int sep = key.indexOf('_', 3);
    if (sep < 4 || sep == key.length() - 1 || sep - 3 > 10) {
      return -1;
    }
    long account = 0;
    for (int i = 3; i < sep; i++) {
      char c = key.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      account = account * 10 + (c - '0');
    }
    return account > 0 && account < (1L << 31) ? account : -1;
  }

  public static String hash(String key) {
    return sha256(key);
  }

  public static String sha256(String text) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JVM", e);
    }
  }
}
