package io.surplus.cli;

/**
 * What ends a command unsuccessfully: the one-line message for the user, the process exit code
 * ({@link SurplusCli#API_ERROR}, {@link SurplusCli#USAGE} or {@link SurplusCli#UNAVAILABLE}) and,
 * when the service answered, its HTTP status, its {@code Retry-After} seconds and its problem
 * document (printed on stdout under {@code --json}).
 */
public final class CliError extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final int exitCode;
  private final int status;
  private final int retryAfterSeconds;
  private final String body;
  private final boolean outcomeUnknown;

  CliError(int exitCode, String message) {
    this(exitCode, message, 0, -1, null, false);
  }

  CliError(
      int exitCode,
      String message,
      int status,
      int retryAfterSeconds,
      String body,
      boolean outcomeUnknown) {
    super(message, null, false, false);
    this.exitCode = exitCode;
    this.status = status;
    this.retryAfterSeconds = retryAfterSeconds;
    this.body = body;
    this.outcomeUnknown = outcomeUnknown;
  }

  static CliError usage(String message) {
    return new CliError(SurplusCli.USAGE, message);
  }

  static CliError unavailable(String message) {
    return new CliError(SurplusCli.UNAVAILABLE, message);
  }

  /** The request went out but no answer says what became of it (a timeout, a broken line). */
  static CliError noAnswer(String message) {
    return new CliError(SurplusCli.UNAVAILABLE, message, 0, -1, null, true);
  }

  /** The same error with a sentence added to its message. */
  CliError withHint(String hint) {
    return new CliError(
        exitCode, getMessage() + ". " + hint, status, retryAfterSeconds, body, outcomeUnknown);
  }

  /**
   * Whether a write may or may not have happened: the service failed (5xx) or never answered. A
   * retry with the same Idempotency-Key finds out.
   */
  public boolean outcomeUnknown() {
    return outcomeUnknown || status >= 500;
  }

  public int exitCode() {
    return exitCode;
  }

  /** The HTTP status the service answered, or 0 when it did not answer. */
  public int status() {
    return status;
  }

  /** Seconds from the answer's {@code Retry-After}, or -1 without one. */
  public int retryAfterSeconds() {
    return retryAfterSeconds;
  }

  /** The answer's body (a problem document, usually), or null. */
  public String body() {
    return body;
  }
}
