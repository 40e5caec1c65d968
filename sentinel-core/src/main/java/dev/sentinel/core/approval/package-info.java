/**
 * Approvals bound to the exact call: a {@code confirm} rule's call waits for (or is refused
 * until) operators other than the caller approve it in a queue ({@link
 * dev.sentinel.core.approval.ApprovalStore}); the approval is bound to the principal, the tool,
 * the digest of the arguments and the policy revision, expires, and is used at most once. {@link
 * dev.sentinel.core.approval.ApprovalConfirmer} is the {@link dev.sentinel.api.Confirmer} that
 * asks the queue; operators decide through the operator service ({@code
 * dev.sentinel.operator.ApprovalOperations}): {@code sentinel approvals}, the admin API and
 * the operator page.
 */
@NullMarked
package dev.sentinel.core.approval;

import org.jspecify.annotations.NullMarked;
