package dev.sentinel.dist;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.MappingIterator;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * The deploy kit's files, checked as far as a machine without a container runtime or a
 * Kubernetes cluster allows: they parse, name files that exist, and keep the hardening they
 * promise. The systemd unit is also checked by {@code systemd-analyze} in {@code deploy/check}
 * (run by {@code .ci/run}).
 */
class DeployKitTest {
  static final Path DEPLOY = Path.of("..", "deploy").toAbsolutePath().normalize();
  static final YAMLMapper YAML = YAMLMapper.builder().build();

  private static List<JsonNode> documents(Path file) throws Exception {
    List<JsonNode> out = new ArrayList<>();
    try (MappingIterator<JsonNode> it = YAML.readerFor(JsonNode.class)
        .readValues(Files.readString(file, StandardCharsets.UTF_8))) {
      while (it.hasNext()) {
        out.add(it.next());
      }
    }
    return out;
  }

  @Test
  void compose_parses_namesItsFourServices_andEveryFileItMountsExists() throws Exception {
    Path compose = DEPLOY.resolve("compose/compose.yaml");
    JsonNode root = documents(compose).get(0);
    JsonNode services = root.path("services");
    assertThat(services.propertyNames()).containsExactlyInAnyOrder("sentinel", "postgres",
        "prometheus", "grafana");
    Path dir = compose.getParent();
    JsonNode build = services.path("sentinel").path("build");
    Path context = dir.resolve(build.path("context").asString()).normalize();
    assertThat(context.resolve(build.path("dockerfile").asString())).isRegularFile();
    for (JsonNode service : services) {
      for (JsonNode volume : service.path("volumes")) {
        String source = volume.asString().split(":")[0];
        if (source.startsWith(".")) {
          assertThat(dir.resolve(source).normalize()).as(volume.asString()).exists();
        }
      }
      for (JsonNode port : service.path("ports")) {
        assertThat(port.asString()).as("published on loopback only").startsWith("127.0.0.1:");
      }
    }
    JsonNode sentinel = services.path("sentinel");
    assertThat(sentinel.path("read_only").asBoolean()).isTrue();
    assertThat(sentinel.path("environment").path("SENTINEL_ADMIN_TOKEN").asString())
        .startsWith("${SENTINEL_ADMIN_TOKEN:?");
    for (String file : new String[] {"prometheus.yml", "grafana/datasources.yaml",
        "grafana/dashboards.yaml"}) {
      assertThat(documents(dir.resolve(file))).as(file).hasSize(1);
    }
  }

  @Test
  void kubernetes_hasTheDeploymentWithProbes_aPdb_theSecret_andReplicas() throws Exception {
    List<JsonNode> docs = documents(DEPLOY.resolve("kubernetes/sentinel.yaml"));
    assertThat(docs).extracting(d -> d.path("kind").asString())
        .containsExactlyInAnyOrder("Secret", "Deployment", "PodDisruptionBudget", "Service");
    JsonNode deployment = docs.stream().filter(d -> d.path("kind").asString().equals("Deployment"))
        .findFirst().orElseThrow();
    assertThat(deployment.path("spec").path("replicas").asInt()).isGreaterThanOrEqualTo(2);
    JsonNode pod = deployment.path("spec").path("template").path("spec");
    JsonNode container = pod.path("containers").get(0);
    assertThat(container.path("livenessProbe").path("httpGet").path("path").asString()).isEqualTo("/livez");
    assertThat(container.path("readinessProbe").path("httpGet").path("path").asString()).isEqualTo("/readyz");
    assertThat(container.path("securityContext").path("readOnlyRootFilesystem").asBoolean()).isTrue();
    assertThat(pod.path("securityContext").path("runAsNonRoot").asBoolean()).isTrue();
    List<String> secretRefs = new ArrayList<>();
    for (JsonNode env : container.path("env")) {
      if (env.has("valueFrom")) {
        secretRefs.add(env.path("name").asString());
      }
    }
    assertThat(secretRefs).contains("SENTINEL_ADMIN_TOKEN", "PGPASSWORD");
    JsonNode url = null;
    for (JsonNode env : container.path("env")) {
      if (env.path("name").asString().equals("SENTINEL_DATABASE_URL")) {
        url = env.path("value");
      }
    }
    assertThat(url).isNotNull();
    assertThat(url.asString()).as("replicas share PostgreSQL").startsWith("jdbc:postgresql:");
  }

  @Test
  void containerfile_isMultiStage_nonRoot_withAHealthCheckOnLivez() throws Exception {
    List<String> lines = Files.readAllLines(DEPLOY.resolve("Containerfile"));
    assertThat(lines.stream().filter(l -> l.startsWith("FROM "))).hasSizeGreaterThanOrEqualTo(2);
    assertThat(lines).anyMatch(l -> l.startsWith("COPY --from=build"));
    String user = lines.stream().filter(l -> l.startsWith("USER ")).reduce((a, b) -> b).orElseThrow();
    assertThat(user).doesNotContain("root").isNotEqualTo("USER 0");
    String text = String.join("\n", lines);
    assertThat(text).contains("HEALTHCHECK").contains("dev.sentinel.cli.HealthCheck")
        .contains("/livez");
  }

  @Test
  void systemdUnit_isHardened() throws Exception {
    String unit = Files.readString(DEPLOY.resolve("systemd/sentinel.service"));
    assertThat(unit).contains("\nDynamicUser=yes\n", "\nProtectSystem=strict\n",
        "\nStateDirectory=sentinel\n", "\nNoNewPrivileges=yes\n", "\nCapabilityBoundingSet=\n");
  }
}
