/**
 * Notifications of what operators must know at once: a call waiting for approval, an approval
 * decided (and, as they arrive, break-glass windows and changed tool definitions). {@link
 * dev.sentinel.core.notify.WebhookNotifier} posts each as signed JSON to a webhook, from a bounded
 * queue, with retries, never blocking a call.
 */
package dev.sentinel.core.notify;
