/**
 * Policy-as-code tooling for operators and CI, over the policy engine of
 * {@code dev.sentinel.core.policy}: {@link dev.sentinel.policy.tools.PolicyTests} runs test cases
 * written beside a policy (like {@code opa test}), {@link dev.sentinel.policy.tools.PolicyLint}
 * finds rules that can never decide and names that match nothing, and
 * {@link dev.sentinel.policy.tools.PolicyDiff} with {@link dev.sentinel.policy.tools.PolicyReplay}
 * compares two policies and replays an audit trail through both. The CLI's {@code sentinel policy}
 * commands use them; an application that embeds the pipeline does not need this module, which is
 * why it is not in {@code sentinel-core}.
 */
@NullMarked
package dev.sentinel.policy.tools;

import org.jspecify.annotations.NullMarked;
