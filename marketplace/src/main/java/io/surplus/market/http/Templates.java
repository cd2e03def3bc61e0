package io.surplus.market.http;

import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.pathPrefix;
import static org.apache.pekko.http.javadsl.server.Directives.pathSingleSlash;
import static org.apache.pekko.http.javadsl.server.Directives.reject;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.apache.pekko.http.javadsl.server.PathMatcher0;
import org.apache.pekko.http.javadsl.server.PathMatcher1;
import org.apache.pekko.http.javadsl.server.PathMatcher2;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * A path template of the endpoint table ({@code /v1/markets/{gpuModel}/epochs/{n}}) as the routing
 * DSL's {@code path} directive with its matcher: literal segments match themselves, each {@code
 * {name}} one non-empty segment of RFC 3986's unreserved characters (letters, digits, {@code -._~}:
 * every id, market and file name is written in them), and the whole path must be matched. A
 * parameter is matched decoded, so the pattern keeps out what an encoding could smuggle in: a
 * slash, a NUL, or digits of another script that {@code Long.parseLong} would read as ours. At most
 * two parameters, the most any endpoint has.
 */
final class Templates {

  /** What a parameter may hold, decoded. */
  static final Pattern PARAMETER = Pattern.compile("[A-Za-z0-9._~-]+");

  private Templates() {}

  /** A template and what answers it, given its parameters by name. */
  record Leaf(String template, Function<Map<String, String>, Route> inner) {

    String[] segments() {
      return Templates.segments(template);
    }
  }

  /** A template's segments, without the leading slash ({@code /}: none). */
  static String[] segments(String template) {
    return template.equals("/") ? new String[0] : template.substring(1).split("/");
  }

  /**
   * The leaves as one route, in their order, with the literal segments they start with shared: a
   * run of neighbours that share a segment sits under one {@code pathPrefix} of it, so a request
   * tries the few alternatives under its own prefix instead of every template in turn. Only
   * neighbours are merged, so the leaf a request reaches first is the one the table lists first, as
   * with every template tried in turn.
   */
  static Route tree(List<Leaf> leaves) {
    return level(leaves, 0);
  }

  private static Route level(List<Leaf> leaves, int depth) {
    List<Route> alternatives = new ArrayList<>();
    int i = 0;
    while (i < leaves.size()) {
      Leaf leaf = leaves.get(i);
      String[] segments = leaf.segments();
      String literal = literalAt(segments, depth);
      if (literal == null) {
        alternatives.add(rest(leaf, segments, depth));
        i++;
        continue;
      }
      int j = i + 1;
      while (j < leaves.size() && literal.equals(literalAt(leaves.get(j).segments(), depth))) {
        j++;
      }
      // built once, here: the supplier runs for every request that gets this far
      Route under = level(List.copyOf(leaves.subList(i, j)), depth + 1);
      alternatives.add(pathPrefix(literal, () -> under));
      i = j;
    }
    return concat(reject(), alternatives.toArray(Route[]::new));
  }

  /** The literal segment at {@code depth} when more segments follow it, else null. */
  private static String literalAt(String[] segments, int depth) {
    if (depth >= segments.length - 1) {
      return null; // a template's last segment is matched with the path's end, by rest
    }
    String s = segments[depth];
    return s.startsWith("{") ? null : s;
  }

  /** The leaf's segments from {@code depth} on (the ones before matched), to the path's end. */
  private static Route rest(Leaf leaf, String[] segments, int depth) {
    if (segments.length == 0) {
      return pathSingleSlash(() -> leaf.inner().apply(Map.of()));
    }
    String suffix =
        "/" + String.join("/", java.util.Arrays.asList(segments).subList(depth, segments.length));
    return route(suffix, leaf.inner());
  }

  /**
   * The route that matches {@code template} and hands its parameters, by name, to {@code inner}.
   */
  static Route route(String template, Function<Map<String, String>, Route> inner) {
    if (!template.startsWith("/")) {
      throw new IllegalArgumentException("a template starts with '/': " + template);
    }
    if (template.equals("/")) {
      return pathSingleSlash(() -> inner.apply(Map.of()));
    }
    String[] segments = template.substring(1).split("/");
    List<String> names = new ArrayList<>(2);
    PathMatcher0 literal = null;
    PathMatcher1<String> one = null;
    PathMatcher2<String, String> two = null;
    for (String s : segments) {
      boolean param = s.length() > 2 && s.startsWith("{") && s.endsWith("}");
      if (s.isEmpty() || (!param && (s.contains("{") || s.contains("}")))) {
        throw new IllegalArgumentException("bad segment '" + s + "' in " + template);
      }
      if (param) {
        String name = s.substring(1, s.length() - 1);
        if (names.contains(name)) {
          throw new IllegalArgumentException("parameter '" + name + "' twice in " + template);
        }
        names.add(name);
        if (names.size() > 2) {
          throw new IllegalArgumentException("more than two parameters in " + template);
        }
        PathMatcher1<String> segment = PathMatchers.segment(PARAMETER);
        if (one != null) {
          two = one.slash(segment);
          one = null;
        } else {
          one = literal == null ? segment : literal.slash(segment);
          literal = null;
        }
      } else if (two != null) {
        two = two.slash(s);
      } else if (one != null) {
        one = one.slash(s);
      } else {
        literal = literal == null ? PathMatchers.segment(s) : literal.slash(s);
      }
    }
    if (two != null) {
      return path(two, (a, b) -> inner.apply(Map.of(names.get(0), a, names.get(1), b)));
    }
    if (one != null) {
      return path(one, a -> inner.apply(Map.of(names.get(0), a)));
    }
    return path(literal, () -> inner.apply(Map.of()));
  }
}
