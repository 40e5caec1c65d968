package dev.sentinel.core.config;

import dev.sentinel.core.bundle.Bundle;
import dev.sentinel.core.config.ConfigException.Problem;
import dev.sentinel.core.policy.PolicyEngine;
import dev.sentinel.core.policy.PolicyOptions;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;

/**
 * Reads the config's {@code policy:} (a file name, {@code { file: ... }} or an inline policy)
 * into a compiled {@link PolicyEngine}, recording the config's own problems in the shared reader
 * and keeping the policy file's problems apart ({@link #foreign()}). Not thread-safe: one per
 * load.
 */
final class PolicySectionReader {
  static final List<String> POLICY_FILE_KEYS = List.of("file");

  private final ConfigReader in;
  private final Expander expander;
  private final YamlDocument document;
  private final Path baseDir;
  private final PolicyOptions policyOptions;
  /** The signed bundle the config comes from (its policy is read from it), or null. */
  private final @Nullable Bundle bundle;
  /** Problems of other files (the policy file), reported after the config's own. */
  private final List<Problem> foreign = new ArrayList<>();

  PolicySectionReader(ConfigReader in, Expander expander, Path baseDir, PolicyOptions policyOptions,
      @Nullable Bundle bundle) {
    this.in = in;
    this.expander = expander;
    this.document = in.document();
    this.baseDir = baseDir;
    this.policyOptions = policyOptions;
    this.bundle = bundle;
  }

  /** The compiled policy, or {@code null} after recording problems (see {@link #foreign()}). */
  @Nullable PolicyEngine read() {
    String p = "/policy";
    if (!in.present(p, null, false)) {
      in.error(p, null, "missing required key 'policy': give policy: { file: policy.yaml } or "
          + "an inline policy with rules (without one, every request would be denied)");
      return null;
    }
    JsonNode node = in.node(p);
    String written;
    String at;
    if (node.isString()) {
      written = node.stringValue();
      at = p;
    } else if (node.isObject() && node.has("file")) {
      if (!in.checkKeys(p, null, POLICY_FILE_KEYS)) {
        return null;
      }
      at = p + "/file";
      written = in.string(at, null, "a policy file name");
      if (written == null) {
        return null;
      }
    } else if (node.isObject()) {
      try {
        return PolicyEngine.compile(document, p, policyOptions);
      } catch (ConfigException e) {
        for (Problem problem : e.problems()) {
          in.error(problem.path(), problem.subject(), problem.message());
        }
        return null;
      }
    } else {
      in.error(p, null, "expected { file: policy.yaml } or an inline policy mapping with "
          + "roles, rules and limits, got " + ConfigReader.describe(node));
      return null;
    }
    Path file = expander.resolve(written);
    if (file == null || written.isBlank()) {
      in.error(at, null, "'" + written + "' is not a valid path");
      return null;
    }
    String display = displayName(written);
    if (bundle != null) {
      return bundledPolicy(bundle, at, file, display);
    }
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      in.error(at, null, "the policy file " + file + " does not exist");
      return null;
    } catch (CharacterCodingException e) {
      in.error(at, null, "the policy file " + file + " is not valid UTF-8; save it as UTF-8");
      return null;
    } catch (IOException | SecurityException e) {
      in.error(at, null, "cannot read the policy file " + file + ": " + e);
      return null;
    }
    try {
      return PolicyEngine.parse(text, display, policyOptions);
    } catch (ConfigException e) {
      foreign.addAll(e.problems());
      return null;
    }
  }

  /** The policy file's own problems, in the order found. */
  List<Problem> foreign() {
    return foreign;
  }

  /** The policy of a bundled config: the bundle's file of that name, never one on the disk. */
  private @Nullable PolicyEngine bundledPolicy(
      Bundle bundle, String at, Path file, String display) {
    String name = file.startsWith(baseDir)
        ? baseDir.relativize(file).toString().replace('\\', '/') : null;
    if (name == null || !bundle.entries().stream().anyMatch(e -> e.name().equals(name))) {
      in.error(at, null, "the policy file is not in the bundle (it holds "
          + bundle.entries().stream().map(Bundle.Entry::name).toList() + "): a bundled config's"
          + " policy is read from the bundle, never from the disk");
      return null;
    }
    try {
      return PolicyEngine.parse(BundleConfigLoader.utf8(bundle, name, display), display,
          policyOptions);
    } catch (ConfigException e) {
      foreign.addAll(e.problems());
      return null;
    }
  }

  /** The policy file's name as shown in messages: relative to the config's own name. */
  private String displayName(String written) {
    try {
      Path path = Path.of(written);
      if (path.isAbsolute()) {
        return path.normalize().toString();
      }
      Path config = Path.of(document.source());
      return config.resolveSibling(path).normalize().toString();
    } catch (InvalidPathException e) {
      return written;
    }
  }
}
