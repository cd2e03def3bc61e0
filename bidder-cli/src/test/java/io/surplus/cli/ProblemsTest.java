package io.surplus.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ProblemsTest {

  static String problem(int status, String title, String detail, String field) {
    return "{\"type\":\"https://surplus.dev/problems/x\",\"title\":\""
        + title
        + "\",\"status\":"
        + status
        + ",\"detail\":\""
        + detail
        + "\""
        + (field == null ? "" : ",\"field\":\"" + field + "\"")
        + "}";
  }

  @Test
  void shouldRenderTitleDetailFieldAndStatusOfARuleBroken() {
    String body =
        problem(422, "A field breaks a rule", "limitPrice must be a decimal string", "limitPrice");
    CliError e = Problems.error(422, body, null, null);
    assertEquals(
        "a field breaks a rule: limitPrice must be a decimal string (HTTP 422, field limitPrice)",
        e.getMessage());
    assertEquals(SurplusCli.API_ERROR, e.exitCode());
    assertEquals(body, e.body());
    assertFalse(e.outcomeUnknown());
  }

  @Test
  void shouldSayWhereTheRefusedKeyCameFrom() {
    CliError e =
        Problems.error(
            401,
            problem(401, "A valid API key is required", "the API key is not valid", null),
            null,
            "the environment variable SURPLUS_API_KEY");
    assertEquals(
        "the API key was refused: the API key is not valid (HTTP 401); check the key in the"
            + " environment variable SURPLUS_API_KEY",
        e.getMessage());
    assertEquals(SurplusCli.API_ERROR, e.exitCode());
  }

  @Test
  void shouldMapNotFoundAndConflictToPlainWords() {
    assertEquals(
        "not found: no market 'B200'; markets: [H100-SXM-80GB] (HTTP 404)",
        Problems.error(
                404,
                problem(404, "Not found", "no market 'B200'; markets: [H100-SXM-80GB]", null),
                null,
                null)
            .getMessage());
    assertEquals(
        "conflict: bid bid_1_2 is filled and cannot be cancelled (HTTP 409)",
        Problems.error(
                409,
                problem(
                    409,
                    "The bid is closed",
                    "bid bid_1_2 is filled and cannot be cancelled",
                    null),
                null,
                null)
            .getMessage());
  }

  @Test
  void shouldTellWhenToRetryAnUnavailableServiceAndExitThree() {
    CliError e =
        Problems.error(
            503,
            problem(503, "The service cannot persist right now", "nothing is acknowledged", null),
            "2",
            null);
    assertEquals(
        "the service is unavailable: nothing is acknowledged (HTTP 503); retry in 2 s",
        e.getMessage());
    assertEquals(SurplusCli.UNAVAILABLE, e.exitCode());
    assertEquals(2, e.retryAfterSeconds());
    assertTrue(e.outcomeUnknown());
  }

  @Test
  void shouldLowerOnlyAnOrdinaryFirstWordOfATitle() {
    assertEquals("a field breaks a rule", Problems.lowerFirst("A field breaks a rule"));
    assertEquals("the body is too large", Problems.lowerFirst("The body is too large"));
    assertEquals("Idempotency-Key is required", Problems.lowerFirst("Idempotency-Key is required"));
    assertEquals("API key", Problems.lowerFirst("API key"));
  }

  @Test
  void shouldQuoteABodyThatIsNotAProblemDocument() {
    CliError e = Problems.error(502, "<html>\n<b>Bad   Gateway</b></html>", null, null);
    assertEquals(
        "the service answered 502: <html> <b>Bad Gateway</b></html> (HTTP 502)", e.getMessage());
    assertNull(e.body());
    assertEquals(SurplusCli.UNAVAILABLE, e.exitCode());
  }
}
