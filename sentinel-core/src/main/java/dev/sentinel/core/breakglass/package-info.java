/**
 * Break-glass: bounded, loud emergency windows in which a principal's calls are decided first by
 * the policy's {@code break_glass:} rules. Windows are kept in a {@link
 * dev.sentinel.core.breakglass.BreakGlassStore} (in memory, or sentinel-jdbc's table shared by
 * every gateway on a database), read by the pipeline from an in-memory snapshot ({@link
 * dev.sentinel.core.breakglass.BreakGlassWindows}); a principal opens its own window with a
 * {@link dev.sentinel.core.breakglass.Totp} code, an operator through the operator service.
 */
@NullMarked
package dev.sentinel.core.breakglass;

import org.jspecify.annotations.NullMarked;
