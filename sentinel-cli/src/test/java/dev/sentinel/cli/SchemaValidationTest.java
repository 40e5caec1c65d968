package dev.sentinel.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.networknt.schema.Error;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import java.io.InputStream;
import java.nio.file.Files;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The shipped JSON Schema, run by a real validator, accepts the configs the loader accepts and
 * rejects the mistakes it rejects. (The key-by-key agreement is checked in sentinel-core.)
 */
class SchemaValidationTest {
  private static Schema schema;

  @BeforeAll
  static void load() throws Exception {
    try (InputStream in = ConfigCommand.class.getResourceAsStream(ConfigCommand.SCHEMA_RESOURCE)) {
      schema = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12)
          .getSchema(in);
    }
  }

  private static List<Error> errors(String yaml) {
    return schema.validate(yaml, InputFormat.YAML);
  }

  @Test
  void configSchema_printsTheSchemaForEditors() throws Exception {
    Cli.Run run = Cli.run("config", "schema");
    assertThat(run.exit()).as(run.err()).isZero();
    try (InputStream in = ConfigCommand.class.getResourceAsStream(ConfigCommand.SCHEMA_RESOURCE)) {
      assertThat(run.out()).isEqualTo(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
    }
    assertThat(tools.jackson.databind.json.JsonMapper.shared().readTree(run.out()).path("$schema").asString())
        .contains("2020-12");
  }

  @Test
  void fixtureConfig_isValid() throws Exception {
    assertThat(errors(Files.readString(Cli.fixture("sentinel.yaml")))).isEmpty();
  }

  @Test
  void inlinePolicy_isValid() throws Exception {
    String policy = Files.readString(Cli.fixture("policy.yaml")).replaceAll("(?m)^", "  ");
    assertThat(errors("backends: [ { name: fs, stdio: { command: s } } ]\npolicy:\n" + policy))
        .isEmpty();
  }

  @Test
  void mistakesTheLoaderRejects_areInvalid() {
    String ok = "backends: [ { name: fs, stdio: { command: s } } ]\npolicy: p.yaml\n";
    assertThat(errors(ok)).isEmpty();
    assertThat(errors(ok + "gatway: {}\n")).isNotEmpty();
    assertThat(errors(ok + "gateway: { request_timeout: 30 }\n")).isNotEmpty();
    assertThat(errors(ok + "gateway: { max_message_bytes: 4MB }\n")).isNotEmpty();
    assertThat(errors(ok + "audit: { on_sink_failure: blok }\n")).isNotEmpty();
    assertThat(errors(ok + "audit: { sinks: [ { jsnl: a } ] }\n")).isNotEmpty();
    assertThat(errors("backends: [ { name: My-FS, stdio: { command: s } } ]\npolicy: p\n"))
        .isNotEmpty();
    assertThat(errors("backends: [ { name: fs, stdio: { command: s }, http: { url: u } } ]\n"
        + "policy: p\n")).isNotEmpty();
    assertThat(errors("backends: [ { name: fs, stdio: { command: s, arg: [] } } ]\npolicy: p\n"))
        .isNotEmpty();
    assertThat(errors("backends: []\npolicy: p\n")).isNotEmpty();
    assertThat(errors("backends: [ { name: fs, stdio: { command: s } } ]\n")).isNotEmpty();
  }

  @Test
  void aBundleConfig_holdsOnlyTheBundleSection() {
    String bundle = "bundle: { file: prod.bundle, trust: [alice.pub], min_signers: 1 }\n";
    assertThat(errors(bundle)).isEmpty();
    assertThat(errors("bundle: { file: prod.bundle, trust: alice.pub, state: s.json }\n")).isEmpty();
    assertThat(errors(bundle + "policy: p.yaml\n")).isNotEmpty();
    assertThat(errors("bundle: { file: prod.bundle }\n")).isNotEmpty();
    assertThat(errors("bundle: { file: prod.bundle, trust: [a.pub], min_signers: 0 }\n")).isNotEmpty();
    assertThat(errors("bundle: { file: prod.bundle, trust: [a.pub], channel: prod }\n")).isNotEmpty();
    assertThat(errors("backends: [ { name: fs, stdio: { command: s } } ]\npolicy: p.yaml\n"
        + bundle)).isNotEmpty();
  }

  @Test
  void aChannelBundleConfig_holdsTheBundleAndTheDatabaseItReads() {
    String database = "database: { url: \"jdbc:postgresql://db:5432/sentinel\" }\n";
    String channel = "bundle: { source: database, channel: prod, trust: [a.pub], poll_interval: 5s }\n";
    assertThat(errors(channel + database)).isEmpty();
    assertThat(errors(channel)).isEmpty();
    assertThat(errors(channel + database + "policy: p.yaml\n")).isNotEmpty();
    assertThat(errors("bundle: { source: database, trust: [a.pub] }\n" + database)).isNotEmpty();
    assertThat(errors("bundle: { source: database, channel: prod, file: x.bundle, trust: [a.pub] }\n"
        + database)).isNotEmpty();
    assertThat(errors("bundle: { source: database, channel: Prod!, trust: [a.pub] }\n")).isNotEmpty();
    assertThat(errors("bundle: { file: x.bundle, trust: [a.pub], poll_interval: 5s }\n")).isNotEmpty();
  }
}
