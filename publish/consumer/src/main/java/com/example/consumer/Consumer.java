package com.example.consumer;

import dev.sentinel.api.Outcome;
import dev.sentinel.api.Principal;
import dev.sentinel.api.Request;
import dev.sentinel.core.Call;
import dev.sentinel.core.CallResult;
import dev.sentinel.core.Sentinel;
import dev.sentinel.core.audit.AuditDispatcher;
import dev.sentinel.core.audit.JsonLinesAuditSink;
import dev.sentinel.core.policy.PolicyEngine;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Governs two tool calls of an application in-process with sentinel-core alone: one allowed by
 * a rule, one denied by another, both in a JSON Lines audit trail. Exits non-zero when any of
 * that does not hold. Run by publish/check with the audit file as its argument.
 */
public final class Consumer {
  private static final String POLICY = """
      rules:
        - id: lookups
          allow: { tools: ["customers.lookup"] }
        - id: no-refunds
          deny: { tools: ["payments.refund"] }
          reason: refunds need a human
      """;

  public static void main(String[] args) throws Exception {
    Path auditFile = Path.of(args[0]);
    JsonMapper json = JsonMapper.builder().build();
    Principal ann = Principal.of("ann");
    CallResult<JsonNode> lookup;
    CallResult<JsonNode> refund;
    try (Sentinel sentinel = Sentinel.builder()
        .policy(PolicyEngine.parse(POLICY, "consumer-policy.yaml"))
        .audit(AuditDispatcher.builder().sink(JsonLinesAuditSink.open(auditFile)).build())
        .build()) {
      lookup = sentinel.call(
          Call.as(ann, Request.toolCall("app", "customers.lookup", json.readTree("{\"id\":\"c-7\"}"))),
          allowed -> json.readTree("{\"name\":\"Ada Lovelace\"}"));
      refund = sentinel.call(
          Call.as(ann, Request.toolCall("app", "payments.refund", json.readTree("{\"id\":\"p-1\"}"))),
          allowed -> {
            throw new AssertionError("a denied call must not reach the tool");
          });
    }
    List<String> audit = Files.readAllLines(auditFile);
    check(lookup.ok() && "Ada Lovelace".equals(lookup.value().path("name").asString()),
        "customers.lookup is allowed and returns the tool's result: " + lookup);
    check(refund.outcome() == Outcome.DENIED && refund.decision().rules().contains("no-refunds"),
        "payments.refund is denied by rule no-refunds: " + refund);
    check(audit.size() == 2, "two audit records, got " + audit.size());
    System.out.println("consumer: customers.lookup -> " + lookup.outcome() + " "
        + lookup.value() + "; payments.refund -> " + refund.outcome() + " by "
        + refund.decision().rules() + "; " + audit.size() + " audit records");
  }

  private static void check(boolean holds, String what) {
    if (!holds) {
      System.err.println("consumer: FAILED: " + what);
      System.exit(1);
    }
  }
}
