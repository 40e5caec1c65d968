/**
 * The operator service: what operators do to a gateway, written once. Key lifecycle ({@link
 * dev.sentinel.core.operator.KeyOperations}), the kill switch ({@link
 * dev.sentinel.core.operator.KillSwitchOperations}), the audit trail's query, verification and
 * purge ({@link dev.sentinel.core.operator.AuditOperations}), config reload ({@link
 * dev.sentinel.core.operator.Reloading}), publishing signed bundles ({@link
 * dev.sentinel.core.operator.BundleOperations}) and the fleet's status ({@link
 * dev.sentinel.core.operator.FleetOperations}), gathered by {@link dev.sentinel.core.operator.Operations},
 * with one parser for the times and durations they take ({@link dev.sentinel.core.operator.Times}).
 *
 * <p>The CLI ({@code sentinel keys|killswitch|audit}), the admin API ({@code /admin/api/...}) and
 * the operator page are thin adapters: they parse their own syntax, call these operations, and
 * turn an {@link dev.sentinel.core.operator.OperatorException} into an exit code or an HTTP status
 * by its {@link dev.sentinel.core.operator.OperatorException.Kind}. Later operator features
 * (approvals, pins, rollouts) belong here too.
 */
package dev.sentinel.core.operator;
