/**
 * Embedding Sentinel in a plain Java application: a {@link
 * dev.sentinel.examples.embedding.ToolRegistry} of the application's own tools, governed by a
 * policy file, a rate limit and a JSON Lines audit trail; and {@link
 * dev.sentinel.examples.embedding.ConfirmingExample}, where the application's own user confirms
 * a call a {@code confirm} rule holds ({@link dev.sentinel.examples.embedding.ConsoleCaller}).
 */
@NullMarked
package dev.sentinel.examples.embedding;

import org.jspecify.annotations.NullMarked;
