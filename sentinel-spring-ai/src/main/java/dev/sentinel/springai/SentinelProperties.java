package dev.sentinel.springai;

import dev.sentinel.core.audit.AuditMode;
import java.nio.file.Path;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The {@code sentinel.*} properties the auto-configuration reads.
 *
 * @param policy where the policy file is: {@code classpath:policy.yaml}, a {@code file:} URL, or
 *     a file path; its rules and its {@code limits:} apply. Required, unless the application
 *     defines its own {@link dev.sentinel.core.Sentinel} bean
 * @param instance this instance's name in audit events; {@code pid-host} when unset
 * @param audit where the audit trail goes
 * @param tools how Spring AI tools are governed
 */
@ConfigurationProperties("sentinel")
public record SentinelProperties(
    String policy, String instance, @DefaultValue Audit audit, @DefaultValue Tools tools) {

  /**
   * The audit trail.
   *
   * @param jsonl a JSON Lines file the events are appended to; unset, they go to the SLF4J logger
   *     {@code dev.sentinel.audit} (which start-up checks writes INFO)
   * @param fsync whether each batch written to {@code jsonl} is forced to disk
   * @param mode {@code async} (the default) or {@code durable}: a call's intent record is
   *     committed before the tool runs (needs {@code fsync})
   */
  public record Audit(Path jsonl, @DefaultValue("false") boolean fsync, @DefaultValue("async") AuditMode mode) {}

  /**
   * Spring AI tools.
   *
   * @param govern whether every {@code ToolCallback} and {@code ToolCallbackProvider} bean is
   *     wrapped in a {@link GovernedToolCallback} ({@code true} by default)
   * @param backend the name the pipeline sees as these tools' backend (policies'
   *     {@code backends:}, the kill switch, the audit trail)
   */
  public record Tools(@DefaultValue("true") boolean govern, @DefaultValue("spring-ai") String backend) {}
}
