/**
 * CEL (Common Expression Language) conditions for Sentinel policies: {@code when_cel} in a rule,
 * compiled and type-checked when the policy loads, evaluated with bounded cost, failing closed.
 * The one public type is {@link dev.sentinel.policy.cel.CelConditionLanguage}; register it with
 * {@link dev.sentinel.core.policy.PolicyOptions} (nothing is discovered from the class path).
 *
 * <p>This module is separate so that {@code sentinel-core} stays light: CEL for Java brings
 * Guava, protobuf-java, ANTLR and RE2J.
 */
@NullMarked
package dev.sentinel.policy.cel;

import org.jspecify.annotations.NullMarked;
