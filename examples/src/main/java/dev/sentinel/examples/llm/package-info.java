/**
 * Governing model calls in-process: the official OpenAI Java client's requests through {@link
 * dev.sentinel.core.Sentinel#call}, as {@code llm/chat} calls named by their model.
 */
@NullMarked
package dev.sentinel.examples.llm;

import org.jspecify.annotations.NullMarked;
