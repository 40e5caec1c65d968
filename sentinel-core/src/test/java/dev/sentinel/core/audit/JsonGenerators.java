package dev.sentinel.core.audit;

import dev.sentinel.core.testing.Gen;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/** Seeded generators of JSON trees and secrets for the audit properties. */
final class JsonGenerators {
  static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private JsonGenerators() {}

  /** Up to 24 characters of ASCII (control characters included), Latin and CJK. */
  static String string(Random random) {
    int length = random.nextInt(25);
    StringBuilder out = new StringBuilder(length);
    for (int i = 0; i < length; i++) {
      int kind = random.nextInt(6);
      if (kind < 3) {
        out.append((char) random.nextInt(0x80));
      } else if (kind < 5) {
        out.append((char) (0xA0 + random.nextInt(0x250 - 0xA0)));
      } else {
        out.append((char) (0x4E00 + random.nextInt(0x21)));
      }
    }
    return out.toString();
  }

  /** A member name: 1 to 10 letters, digits, '_' and '-'. */
  static String key(Random random) {
    return Gen.string(random, Gen.ALNUM + "_-", 1, 10);
  }

  /** A JSON value that survives a trip through JSON text unchanged (as Jackson parses it). */
  static JsonNode json(Random random) {
    return json(random, 3);
  }

  static JsonNode json(Random random, int depth) {
    int kind = random.nextInt(depth == 0 ? 3 : 6);
    if (kind >= 4) {
      return object(random, depth);
    }
    if (kind == 3) {
      ArrayNode array = NODES.arrayNode();
      for (int i = random.nextInt(5); i > 0; i--) {
        array.add(json(random, depth - 1));
      }
      return array;
    }
    return leaf(random);
  }

  private static ObjectNode object(Random random, int depth) {
    ObjectNode object = NODES.objectNode();
    for (int i = random.nextInt(5); i > 0; i--) {
      object.set(key(random), json(random, depth - 1));
    }
    return object;
  }

  private static JsonNode leaf(Random random) {
    switch (random.nextInt(10)) {
      case 0: case 1: case 2: case 3:
        return NODES.stringNode(string(random));
      case 4: case 5:
        return NODES.numberNode(random.nextInt());
      case 6:
        long wide = random.nextLong();
        return NODES.numberNode(wide >= Integer.MIN_VALUE && wide <= Integer.MAX_VALUE
            ? wide + (1L << 40) : wide);
      case 7:
        // four decimals within +-1e9, as the values in arguments usually are
        return NODES.numberNode((random.nextLong() % 10_000_000_000_000L) / 10_000.0);
      case 8:
        return NODES.booleanNode(random.nextBoolean());
      default:
        return NODES.nullNode();
    }
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

  private static final String UPPER_DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

  /** One secret of each shape the redactor knows, chosen at random. */
  static Secret secret(Random random) {
    List<Function<Random, Secret>> shapes = List.of(
        r -> bearer("Bearer ", Gen.alnum(r, 16, 48)),
        r -> bearer("authorization: bearer ", Gen.alnum(r, 16, 48)),
        r -> {
          String jwt = "eyJ" + base64url(r) + ".eyJ" + base64url(r) + "." + base64url(r);
          return new Secret(jwt, jwt);
        },
        r -> same("AKIA" + Gen.string(r, UPPER_DIGITS, 16, 16)),
        r -> same("ASIA" + Gen.string(r, UPPER_DIGITS, 16, 16)),
        r -> bearer("aws_secret_access_key = ", base64(r)),
        r -> {
          String key = base64(r);
          return new Secret("AWS_SECRET_ACCESS_KEY=\"" + key + "\"", key);
        },
        r -> same("ghp_" + Gen.alnum(r, 36, 36)),
        r -> same("gho_" + Gen.alnum(r, 36, 36)),
        r -> same("ghs_" + Gen.alnum(r, 36, 36)),
        r -> same("github_pat_" + Gen.alnum(r, 82, 82)),
        r -> bearer("xoxb-1234-5678-", Gen.alnum(r, 24, 40)),
        r -> bearer("sk-proj-", Gen.alnum(r, 20, 48)),
        r -> bearer("sk-ant-api03-", Gen.alnum(r, 20, 48)),
        r -> bearer("snk_abcdefghijkl_", Gen.alnum(r, 43, 43)),
        r -> {
          String body = Gen.alnum(r, 40, 200);
          return new Secret(
              "-----BEGIN RSA PRIVATE KEY-----\n" + body + "\n-----END RSA PRIVATE KEY-----", body);
        },
        r -> bearer("-----BEGIN OPENSSH PRIVATE KEY-----\n", Gen.alnum(r, 40, 200)),
        r -> {
          String password = Gen.alnum(r, 12, 32);
          return new Secret("postgres://admin:" + password + "@db.example.com:5432/app", password);
        },
        r -> {
          String password = Gen.alnum(r, 12, 32);
          return new Secret("https://:" + password + "@example.com", password);
        });
    return Gen.pick(random, shapes).apply(random);
  }

  private static Secret bearer(String prefix, String secret) {
    return new Secret(prefix + secret, secret);
  }

  private static Secret same(String secret) {
    return new Secret(secret, secret);
  }

  private static String base64url(Random random) {
    return Gen.string(random, Gen.ALNUM + "-_", 10, 40);
  }

  /** 40 base64 characters with at least one letter: an all-digit one could be any number. */
  private static String base64(Random random) {
    while (true) {
      String s = Gen.string(random, Gen.ALNUM + "/+", 40, 40);
      if (s.chars().anyMatch(Character::isLetter)) {
        return s;
      }
    }
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
