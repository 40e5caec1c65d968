/**
 * The operator service: what operators do to a gateway, written once. Key lifecycle ({@link
 * dev.sentinel.operator.KeyOperations}), the kill switch ({@link
 * dev.sentinel.operator.KillSwitchOperations}), the audit trail's query, verification and
 * purge ({@link dev.sentinel.operator.AuditOperations}), config reload, approvals ({@link
 * dev.sentinel.operator.ApprovalOperations}), tool pins ({@link
 * dev.sentinel.operator.PinOperations}), break-glass windows ({@link
 * dev.sentinel.operator.BreakGlassOperations}), publishing signed bundles ({@link
 * dev.sentinel.operator.BundleOperations}) and the fleet's status ({@link
 * dev.sentinel.operator.FleetOperations}), gathered by {@link dev.sentinel.operator.Operations}
 * over the stores of a {@link dev.sentinel.core.config.Stores}.
 *
 * <p>The CLI, the admin API ({@code /admin/api/...}) and the operator page are thin adapters:
 * they parse their own syntax, call these operations, and turn an {@link
 * dev.sentinel.core.operator.OperatorException} into an exit code or an HTTP status by its kind.
 */
@NullMarked
package dev.sentinel.operator;

import org.jspecify.annotations.NullMarked;
