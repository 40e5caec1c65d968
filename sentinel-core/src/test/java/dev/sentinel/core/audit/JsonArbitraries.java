package dev.sentinel.core.audit;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Tuple;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/** Generators of JSON trees and secrets for the property tests. */
final class JsonArbitraries {
  static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private JsonArbitraries() {}

  /** Strings of BMP characters without surrogates, control characters included. */
  static Arbitrary<String> strings() {
    return Arbitraries.strings()
        .withCharRange('\u0000', '\u007f')
        .withCharRange('\u00a0', '\u024f')
        .withCharRange('\u4e00', '\u4e20')
        .ofMaxLength(24);
  }

  static Arbitrary<String> keys() {
    return Arbitraries.strings().alpha().numeric().withChars('_', '-').ofMinLength(1).ofMaxLength(10);
  }

  /** JSON values that survive a trip through JSON text unchanged (as Jackson parses them). */
  static Arbitrary<JsonNode> json() {
    return json(3);
  }

  static Arbitrary<JsonNode> json(int depth) {
    Arbitrary<JsonNode> leaf =
        Arbitraries.frequencyOf(
            Tuple.of(4, strings().map(s -> (JsonNode) NODES.stringNode(s))),
            Tuple.of(2, Arbitraries.integers().map(i -> (JsonNode) NODES.numberNode(i))),
            Tuple.of(
                1,
                Arbitraries.longs()
                    .filter(l -> l > Integer.MAX_VALUE || l < Integer.MIN_VALUE)
                    .map(l -> (JsonNode) NODES.numberNode(l))),
            Tuple.of(
                1,
                Arbitraries.doubles()
                    .between(-1e9, 1e9)
                    .ofScale(4)
                    .map(d -> (JsonNode) NODES.numberNode(d))),
            Tuple.of(1, Arbitraries.of(true, false).map(b -> (JsonNode) NODES.booleanNode(b))),
            Tuple.of(1, Arbitraries.just((JsonNode) NODES.nullNode())));
    if (depth == 0) {
      return leaf;
    }
    Arbitrary<JsonNode> child = Arbitraries.lazy(() -> json(depth - 1));
    Arbitrary<JsonNode> array =
        child.list().ofMaxSize(4).map(list -> {
          ArrayNode a = NODES.arrayNode();
          list.forEach(a::add);
          return (JsonNode) a;
        });
    Arbitrary<JsonNode> object =
        Arbitraries.maps(keys(), child).ofMaxSize(4).map(map -> {
          ObjectNode o = NODES.objectNode();
          for (Map.Entry<String, JsonNode> e : map.entrySet()) {
            o.set(e.getKey(), e.getValue());
          }
          return (JsonNode) o;
        });
    return Arbitraries.frequencyOf(Tuple.of(3, leaf), Tuple.of(1, array), Tuple.of(2, object));
  }

  /** A deep copy with every object's members inserted in a shuffled order. */
  static JsonNode shuffled(JsonNode node, Random random) {
    if (node.isObject()) {
      List<String> names = new ArrayList<>(node.propertyNames());
      Collections.shuffle(names, random);
      ObjectNode o = NODES.objectNode();
      for (String name : names) {
        o.set(name, shuffled(node.get(name), random));
      }
      return o;
    }
    if (node.isArray()) {
      ArrayNode a = NODES.arrayNode();
      for (JsonNode element : node) {
        a.add(shuffled(element, random));
      }
      return a;
    }
    return node;
  }

  /** A secret-bearing text, and the part of it that must never reach the trail. */
  record Secret(String text, String secret) {}

  static Arbitrary<String> alnum(int min, int max) {
    return Arbitraries.strings().alpha().numeric().ofMinLength(min).ofMaxLength(max);
  }

  static Arbitrary<Secret> secrets() {
    Arbitrary<String> upper =
        Arbitraries.strings().withCharRange('A', 'Z').numeric().ofLength(16);
    Arbitrary<String> base64 =
        Arbitraries.strings().alpha().numeric().withChars('/', '+').ofLength(40)
            // a real secret has letters; an all-digit one could be any number
            .filter(s -> s.chars().anyMatch(Character::isLetter));
    Arbitrary<String> base64url = Arbitraries.strings().alpha().numeric().withChars('-', '_').ofMinLength(10).ofMaxLength(40);
    return Arbitraries.oneOf(
        alnum(16, 48).map(t -> new Secret("Bearer " + t, t)),
        alnum(16, 48).map(t -> new Secret("authorization: bearer " + t, t)),
        net.jqwik.api.Combinators.combine(base64url, base64url, base64url)
            .as((a, b, c) -> "eyJ" + a + ".eyJ" + b + "." + c)
            .map(t -> new Secret(t, t)),
        upper.map(t -> new Secret("AKIA" + t, "AKIA" + t)),
        upper.map(t -> new Secret("ASIA" + t, "ASIA" + t)),
        base64.map(t -> new Secret("aws_secret_access_key = " + t, t)),
        base64.map(t -> new Secret("AWS_SECRET_ACCESS_KEY=\"" + t + "\"", t)),
        alnum(36, 36).map(t -> new Secret("ghp_" + t, "ghp_" + t)),
        alnum(36, 36).map(t -> new Secret("gho_" + t, "gho_" + t)),
        alnum(36, 36).map(t -> new Secret("ghs_" + t, "ghs_" + t)),
        alnum(82, 82).map(t -> new Secret("github_pat_" + t, "github_pat_" + t)),
        alnum(24, 40).map(t -> new Secret("xoxb-1234-5678-" + t, t)),
        alnum(20, 48).map(t -> new Secret("sk-proj-" + t, t)),
        alnum(20, 48).map(t -> new Secret("sk-ant-api03-" + t, t)),
        alnum(43, 43).map(t -> new Secret("snk_abcdefghijkl_" + t, t)),
        alnum(40, 200)
            .map(t -> new Secret(
                "-----BEGIN RSA PRIVATE KEY-----\n" + t + "\n-----END RSA PRIVATE KEY-----", t)),
        alnum(40, 200).map(t -> new Secret("-----BEGIN OPENSSH PRIVATE KEY-----\n" + t, t)),
        alnum(12, 32).map(t -> new Secret("postgres://admin:" + t + "@db.example.com:5432/app", t)),
        alnum(12, 32).map(t -> new Secret("https://:" + t + "@example.com", t)));
  }

  /**
   * A deep copy of the document with the secret text placed at a random spot: inside a string,
   * as a new member or element, or as a member name.
   */
  static JsonNode embed(JsonNode document, Secret secret, Random random, String prefix, String suffix) {
    String[] separators = {" ", "\n", "\"", "=", ": ", "\t"};
    String text =
        prefix
            + separators[random.nextInt(separators.length)]
            + secret.text()
            + separators[random.nextInt(separators.length)]
            + suffix;
    JsonNode copy = document.deepCopy();
    List<JsonNode> containers = new ArrayList<>();
    collect(copy, containers);
    if (containers.isEmpty()) {
      ArrayNode wrapper = NODES.arrayNode();
      wrapper.add(copy);
      wrapper.add(text);
      return wrapper;
    }
    JsonNode target = containers.get(random.nextInt(containers.size()));
    if (target.isArray()) {
      ArrayNode a = (ArrayNode) target;
      a.insert(random.nextInt(a.size() + 1), text);
    } else if (random.nextBoolean()) {
      ((ObjectNode) target).put("k" + random.nextInt(1000), text);
    } else {
      ((ObjectNode) target).put(text, random.nextInt(10));
    }
    return copy;
  }

  private static void collect(JsonNode node, List<JsonNode> out) {
    if (node.isContainer()) {
      out.add(node);
      for (JsonNode child : node) {
        collect(child, out);
      }
    }
  }
}
