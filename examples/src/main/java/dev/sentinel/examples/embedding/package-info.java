/**
 * Embedding Sentinel in a plain Java application: a {@link
 * dev.sentinel.examples.embedding.ToolRegistry} of the application's own tools, governed by a
 * policy file, a rate limit and a JSON Lines audit trail.
 */
package dev.sentinel.examples.embedding;
