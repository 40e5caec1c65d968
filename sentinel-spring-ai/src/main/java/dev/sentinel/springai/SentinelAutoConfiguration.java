package dev.sentinel.springai;

import dev.sentinel.core.Sentinel;
import dev.sentinel.core.audit.AuditDispatcher;
import dev.sentinel.core.audit.JsonLinesAuditSink;
import dev.sentinel.core.policy.PolicyEngine;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.springframework.ai.tool.ToolCallback;
import org.springframework.ai.tool.ToolCallbackProvider;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.core.io.Resource;
import org.springframework.core.io.ResourceLoader;

/**
 * Governs a Spring AI application's tools: a {@link Sentinel} built from the {@code sentinel.*}
 * properties ({@link SentinelProperties}) unless the application defines one, a {@link
 * PrincipalResolver} reading the principal the application put into the tool context unless it
 * defines one, and every {@link ToolCallback} and {@link ToolCallbackProvider} bean wrapped in a
 * {@link GovernedToolCallback} (off with {@code sentinel.tools.govern=false}).
 *
 * <p>Beans are wrapped after initialization, so a tool bean is then only a {@link ToolCallback}:
 * inject it by that interface, not by its class. Tools that are not beans (passed to a chat
 * client directly) are governed with {@link GovernedToolCallback#of}.
 */
@AutoConfiguration
@ConditionalOnClass(ToolCallback.class)
@EnableConfigurationProperties(SentinelProperties.class)
public class SentinelAutoConfiguration {

  /** The pipeline, from {@code sentinel.policy}, {@code sentinel.audit.*} and {@code sentinel.instance}. */
  @Bean
  @ConditionalOnMissingBean
  public Sentinel sentinel(SentinelProperties properties, ResourceLoader resources) {
    if (properties.policy() == null || properties.policy().isBlank()) {
      throw new IllegalStateException("sentinel.policy is not set: name the policy file"
          + " (sentinel.policy=classpath:policy.yaml), or define a Sentinel bean");
    }
    Sentinel.Builder builder = Sentinel.builder().policy(policy(properties.policy(), resources));
    SentinelProperties.Audit audit = properties.audit();
    if (audit.jsonl() != null) {
      builder.audit(AuditDispatcher.builder().sink(JsonLinesAuditSink.open(audit.jsonl(), audit.fsync())).build());
    }
    builder.auditMode(audit.mode());
    if (properties.instance() != null) {
      builder.instance(properties.instance());
    }
    return builder.build();
  }

  /** Who calls a tool: the {@link dev.sentinel.api.Principal} the application put into the tool context. */
  @Bean
  @ConditionalOnMissingBean
  public PrincipalResolver sentinelPrincipalResolver() {
    return PrincipalResolver.fromToolContext();
  }

  /**
   * Wraps every tool bean. Static, and given providers rather than beans, so that the pipeline is
   * built only when the first tool is.
   */
  @Bean
  @ConditionalOnProperty(prefix = "sentinel.tools", name = "govern", havingValue = "true", matchIfMissing = true)
  public static BeanPostProcessor sentinelToolGovernor(ObjectProvider<Sentinel> sentinel,
      ObjectProvider<PrincipalResolver> principals, ObjectProvider<SentinelProperties> properties) {
    return new BeanPostProcessor() {
      @Override
      public Object postProcessAfterInitialization(Object bean, String name) {
        if (bean instanceof ToolCallback && !(bean instanceof GovernedToolCallback)) {
          return GovernedToolCallback.of((ToolCallback) bean, sentinel.getObject(),
              properties.getObject().tools().backend(), principals.getObject());
        }
        if (bean instanceof ToolCallbackProvider && !(bean instanceof GovernedToolCallbackProvider)) {
          return GovernedToolCallbackProvider.of((ToolCallbackProvider) bean, sentinel.getObject(),
              properties.getObject().tools().backend(), principals.getObject());
        }
        return bean;
      }
    };
  }

  /** A file path as such (its errors name file:line), anything with a prefix as a Spring resource. */
  private static PolicyEngine policy(String location, ResourceLoader resources) {
    if (!location.contains(":") || location.matches("^[A-Za-z]:[\\\\/].*")) {
      return PolicyEngine.load(Path.of(location));
    }
    Resource resource = resources.getResource(location);
    try (InputStream in = resource.getInputStream()) {
      return PolicyEngine.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), location);
    } catch (IOException e) {
      throw new IllegalStateException("sentinel.policy: cannot read " + location + ": " + e.getMessage(), e);
    }
  }
}
