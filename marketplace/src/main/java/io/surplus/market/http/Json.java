package io.surplus.market.http;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.deser.std.StdScalarDeserializer;
import com.fasterxml.jackson.databind.deser.std.StringDeserializer;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.type.LogicalType;
import java.io.IOException;
import java.util.stream.Collectors;

/**
 * The API's JSON: strict on the way in (unknown fields, wrong types, trailing tokens, duplicate
 * keys and float-to-int or string-to-number coercions are errors that name the field), plain on the
 * way out.
 */
public final class Json {

  /**
   * Strings as Jackson reads them, but only well-formed text: a lone UTF-16 surrogate (which a JSON
   * escape of one half of a pair makes) is refused, naming its field, because no event that holds
   * it could be written (CBOR and UTF-8 take only whole characters) and its entity would fail at
   * every attempt.
   */
  private static final StdScalarDeserializer<String> TEXT =
      new StdScalarDeserializer<>(String.class) {
        private static final long serialVersionUID = 1L;

        @Override
        public String deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
          String text = StringDeserializer.instance.deserialize(p, ctxt);
          if (text != null && !wellFormed(text)) {
            throw ctxt.weirdStringException(text, String.class, "a lone UTF-16 surrogate");
          }
          return text;
        }
      };

  public static final ObjectMapper MAPPER = mapper();

  private Json() {}

  private static ObjectMapper mapper() {
    JsonMapper m =
        JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
            .build();
    m.coercionConfigFor(LogicalType.Integer)
        .setCoercion(CoercionInputShape.String, CoercionAction.Fail)
        .setCoercion(CoercionInputShape.Float, CoercionAction.Fail);
    m.coercionConfigFor(LogicalType.Textual)
        .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
        .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
        .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail);
    m.registerModule(new SimpleModule("well-formed-text").addDeserializer(String.class, TEXT));
    m.coercionConfigFor(LogicalType.Boolean)
        .setCoercion(CoercionInputShape.String, CoercionAction.Fail)
        .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail);
    return m;
  }

  /** True when {@code text} holds no lone UTF-16 surrogate. */
  public static boolean wellFormed(String text) {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (Character.isHighSurrogate(c)
          && i + 1 < text.length()
          && Character.isLowSurrogate(text.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        return false;
      }
    }
    return true;
  }

  /** Reads {@code body} as {@code type}, or throws a {@link Problem.Failure} naming the field. */
  public static <T> T read(String body, Class<T> type) {
    if (body == null || body.isBlank()) {
      throw Problem.malformed("the body is empty; a JSON object is required").failure();
    }
    try {
      T value = MAPPER.readValue(body, type);
      if (value == null) {
        throw Problem.malformed("the body is null; a JSON object is required").failure();
      }
      return value;
    } catch (UnrecognizedPropertyException e) {
      throw Problem.unknownField(path(e)).failure();
    } catch (MismatchedInputException e) {
      String field = path(e);
      if (field.isEmpty()) {
        throw Problem.malformed("the body must be a JSON object of the documented shape").failure();
      }
      throw Problem.wrongType(field, field + " has the wrong JSON type").failure();
    } catch (JsonMappingException e) {
      String field = path(e);
      throw (field.isEmpty()
              ? Problem.malformed("the body must be a JSON object of the documented shape")
              : Problem.wrongType(field, field + " has an invalid value"))
          .failure();
    } catch (StreamConstraintsException e) {
      // a number of over 1,000 digits, nesting deeper than 1,000: Jackson's limits, no location
      throw Problem.malformed("the JSON exceeds a limit: " + e.getOriginalMessage()).failure();
    } catch (JsonProcessingException e) {
      JsonLocation at = e.getLocation();
      throw Problem.malformed(
              at == null
                  ? "malformed JSON"
                  : "malformed JSON at line " + at.getLineNr() + ", column " + at.getColumnNr())
          .failure();
    }
  }

  public static String write(Object value) {
    try {
      return MAPPER.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write " + value.getClass().getSimpleName(), e);
    }
  }

  private static String path(JsonMappingException e) {
    return e.getPath().stream()
        .map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
        .collect(Collectors.joining("."))
        .replace(".[", "[");
  }

  /** A fraction given in parts per million, as the API writes it: {@code 0.95}, {@code 1}. */
  public static String ppm(int ppm) {
    return java.math.BigDecimal.valueOf(ppm, 6).stripTrailingZeros().toPlainString();
  }
}
