package io.surplus.fuzz;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The operations of an OpenAPI 3 document as the fuzzer needs them: method, path template, its
 * parameters, the request body's media type and schema (every {@code $ref} resolved), and the roles
 * that may call it ({@code x-roles}; none: public).
 */
final class OpenApi {

  private static final List<String> METHODS = List.of("get", "put", "post", "delete", "patch");

  /** A path, query or header parameter. */
  record Param(String name, String in, boolean required, JsonNode schema) {}

  /** One operation of the document. */
  record Operation(
      String method,
      String template,
      List<Param> params,
      String bodyType,
      JsonNode bodySchema,
      Set<String> roles) {

    String label() {
      return method + " " + template;
    }

    boolean secured() {
      return !roles.isEmpty();
    }

    boolean hasBody() {
      return bodyType != null;
    }

    List<Param> params(String in) {
      return params.stream().filter(p -> p.in().equals(in)).toList();
    }
  }

  private OpenApi() {}

  /** Every operation of {@code doc}, in the document's order. */
  static List<Operation> operations(JsonNode doc) {
    JsonNode schemas = doc.path("components").path("schemas");
    List<Operation> ops = new ArrayList<>();
    Iterator<Map.Entry<String, JsonNode>> paths = doc.path("paths").fields();
    while (paths.hasNext()) {
      Map.Entry<String, JsonNode> path = paths.next();
      for (String method : METHODS) {
        JsonNode op = path.getValue().get(method);
        if (op == null) {
          continue;
        }
        List<Param> params = new ArrayList<>();
        for (JsonNode p : op.path("parameters")) {
          params.add(
              new Param(
                  p.path("name").asText(),
                  p.path("in").asText(),
                  p.path("required").asBoolean(false),
                  resolve(p.path("schema"), schemas)));
        }
        String bodyType = null;
        JsonNode bodySchema = null;
        Iterator<Map.Entry<String, JsonNode>> content =
            op.path("requestBody").path("content").fields();
        if (content.hasNext()) {
          Map.Entry<String, JsonNode> c = content.next();
          bodyType = c.getKey();
          bodySchema = resolve(c.getValue().path("schema"), schemas);
        }
        Set<String> roles = new LinkedHashSet<>();
        for (JsonNode r : op.path("x-roles")) {
          roles.add(r.asText().toLowerCase(Locale.ROOT));
        }
        if (roles.isEmpty() && op.has("security") && op.get("security").size() > 0) {
          roles.addAll(List.of("bidder", "provider", "admin"));
        }
        ops.add(
            new Operation(
                method.toUpperCase(Locale.ROOT),
                path.getKey(),
                List.copyOf(params),
                bodyType,
                bodySchema,
                Set.copyOf(roles)));
      }
    }
    return ops;
  }

  /** {@code schema} with every {@code $ref} to {@code #/components/schemas/...} inlined. */
  static JsonNode resolve(JsonNode schema, JsonNode schemas) {
    return resolve(schema, schemas, 0);
  }

  private static JsonNode resolve(JsonNode schema, JsonNode schemas, int depth) {
    if (depth > 16 || schema == null || !schema.isContainerNode()) {
      return schema;
    }
    if (schema.has("$ref")) {
      String ref = schema.get("$ref").asText();
      String name = ref.substring(ref.lastIndexOf('/') + 1);
      return resolve(schemas.path(name), schemas, depth + 1);
    }
    JsonNode copy = schema.deepCopy();
    if (copy.isObject()) {
      ObjectNode o = (ObjectNode) copy;
      List<String> names = new ArrayList<>();
      o.fieldNames().forEachRemaining(names::add);
      for (String n : names) {
        o.set(n, resolve(o.get(n), schemas, depth + 1));
      }
    } else {
      for (int i = 0; i < copy.size(); i++) {
        ((com.fasterxml.jackson.databind.node.ArrayNode) copy)
            .set(i, resolve(copy.get(i), schemas, depth + 1));
      }
    }
    return copy;
  }
}
