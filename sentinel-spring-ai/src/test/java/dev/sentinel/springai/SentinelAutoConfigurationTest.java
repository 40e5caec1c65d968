package dev.sentinel.springai;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.sentinel.api.Principal;
import dev.sentinel.core.Sentinel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.ai.chat.model.ToolContext;
import org.springframework.ai.tool.ToolCallback;
import org.springframework.ai.tool.ToolCallbackProvider;
import org.springframework.ai.tool.method.MethodToolCallbackProvider;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The auto-configuration in a real Spring Boot application context. */
class SentinelAutoConfigurationTest {
  private static final ToolContext ALICE =
      new ToolContext(Map.of(PrincipalResolver.PRINCIPAL_KEY, Principal.of("alice", "writer")));
  private static final ToolContext BOB =
      new ToolContext(Map.of(PrincipalResolver.PRINCIPAL_KEY, Principal.of("bob", "reader")));

  @TempDir Path dir;

  private final ApplicationContextRunner runner = new ApplicationContextRunner()
      .withConfiguration(AutoConfigurations.of(SentinelAutoConfiguration.class))
      .withUserConfiguration(AssistantConfiguration.class);

  /** The example application: tools as beans, nothing of Sentinel but the properties. */
  @Configuration(proxyBeanMethods = false)
  static class AssistantConfiguration {
    @Bean
    NotesTools notesTools() {
      return new NotesTools();
    }

    @Bean
    ToolCallbackProvider notesToolProvider(NotesTools notes) {
      return MethodToolCallbackProvider.builder().toolObjects(notes).build();
    }

    @Bean
    ToolCallback readNote(NotesTools notes) {
      return Arrays.stream(MethodToolCallbackProvider.builder().toolObjects(notes).build().getToolCallbacks())
          .filter(tool -> tool.getToolDefinition().name().equals("read_note")).findFirst().orElseThrow();
    }
  }

  private static ToolCallback tool(ToolCallbackProvider provider, String name) {
    return Arrays.stream(provider.getToolCallbacks())
        .filter(tool -> tool.getToolDefinition().name().equals(name)).findFirst().orElseThrow();
  }

  @Test
  void governsEveryToolBean_withThePolicyAndAuditFromTheProperties() throws IOException {
    Path trail = dir.resolve("audit.jsonl");
    runner.withPropertyValues(
            "sentinel.policy=classpath:assistant-policy.yaml",
            "sentinel.audit.jsonl=" + trail,
            "sentinel.tools.backend=assistant",
            "sentinel.instance=test-1")
        .run(context -> {
          assertThat(context).hasNotFailed().hasSingleBean(Sentinel.class);
          ToolCallback read = context.getBean("readNote", ToolCallback.class);
          ToolCallbackProvider provider = context.getBean(ToolCallbackProvider.class);
          assertThat(read).isInstanceOf(GovernedToolCallback.class);
          assertThat(provider).isInstanceOf(GovernedToolCallbackProvider.class);

          assertThat(read.call("{\"title\":\"welcome\"}", BOB)).isEqualTo("\"hello\"");
          tool(provider, "write_note").call("{\"title\":\"ideas\",\"body\":\"x\"}", ALICE);
          ToolRefusedException refused = catchThrowableOfType(ToolRefusedException.class,
              () -> tool(provider, "write_note").call("{\"title\":\"x\",\"body\":\"y\"}", BOB));
          assertThat(refused.code()).isEqualTo(-32012);
          assertThat(context.getBean(NotesTools.class).calls).containsExactly("read_note welcome", "write_note ideas");
        });

    // the context closed the pipeline, which flushed the trail
    assertThat(Files.readAllLines(trail)).hasSize(3).allSatisfy(line -> assertThat(line)
        .contains("\"backend\":\"assistant\"").contains("\"instance\":\"test-1\""));
    assertThat(Files.readString(trail)).contains("\"outcome\":\"DENIED\"").contains("\"principal\":\"bob\"");
  }

  @Test
  void withoutAPolicy_startUpFailsNamingTheProperty() {
    runner.run(context -> assertThat(context).hasFailed()
        .getFailure().rootCause().hasMessageContaining("sentinel.policy is not set"));
  }

  @Test
  void withAPolicyFilePath_loadsIt() throws IOException {
    Path policy = dir.resolve("policy.yaml");
    Files.writeString(policy, GovernedToolCallbackTest.policy());
    runner.withPropertyValues("sentinel.policy=" + policy)
        .run(context -> assertThat(context.getBean("readNote", ToolCallback.class)
            .call("{\"title\":\"welcome\"}", BOB)).isEqualTo("\"hello\""));
  }

  @Test
  void governOff_leavesTheToolsAlone() {
    runner.withPropertyValues("sentinel.policy=classpath:assistant-policy.yaml", "sentinel.tools.govern=false")
        .run(context -> {
          assertThat(context.getBean("readNote", ToolCallback.class)).isNotInstanceOf(GovernedToolCallback.class);
          assertThat(context.getBean(ToolCallbackProvider.class)).isNotInstanceOf(GovernedToolCallbackProvider.class);
        });
  }

  @Test
  void theApplicationsPrincipalResolver_isUsed() {
    runner.withPropertyValues("sentinel.policy=classpath:assistant-policy.yaml")
        .withBean(PrincipalResolver.class, () -> context -> Principal.of("service", "reader"))
        .run(context -> {
          ToolCallback read = context.getBean("readNote", ToolCallback.class);
          assertThat(read.call("{\"title\":\"welcome\"}")).isEqualTo("\"hello\"");
        });
  }

  @Test
  void theApplicationsSentinel_isUsed() {
    Sentinel own = Sentinel.builder().audit(dev.sentinel.core.audit.AuditDispatcher.builder()
        .sink(new dev.sentinel.core.testing.RecordingSink()).build()).build();
    runner.withBean(Sentinel.class, () -> own)
        .run(context -> {
          assertThat(context).hasNotFailed();
          assertThat(context.getBean(Sentinel.class)).isSameAs(own);
          // its policy denies everything
          ToolRefusedException refused = catchThrowableOfType(ToolRefusedException.class,
              () -> context.getBean("readNote", ToolCallback.class).call("{\"title\":\"welcome\"}", BOB));
          assertThat(refused.code()).isEqualTo(-32012);
        });
  }
}
