/**
 * The LLM route of {@code sentinel http}: OpenAI- and Anthropic-compatible endpoints under
 * {@code /v1}, each request governed by the runtime's {@link dev.sentinel.core.Sentinel} pipeline
 * (method {@code llm/chat} or {@code llm/embeddings}, name the model) and forwarded to the
 * upstream the config names, streams passed through event by event. docs/llm.md has the design.
 */
@NullMarked
package dev.sentinel.runner.http.llm;

import org.jspecify.annotations.NullMarked;
