/**
 * Notifications of what operators must know at once: a call waiting for approval, an approval
 * decided, break-glass windows and changed tool definitions. The gateways' {@code
 * WebhookNotifier} (sentinel-mcp) posts each as signed JSON to a webhook, from a bounded queue,
 * with retries, never blocking a call; an embedder implements {@link
 * dev.sentinel.core.notify.Notifier} to send them where it likes.
 */
@NullMarked
package dev.sentinel.core.notify;

import org.jspecify.annotations.NullMarked;
