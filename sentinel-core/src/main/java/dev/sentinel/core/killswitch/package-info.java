/**
 * The kill switch: {@link dev.sentinel.core.killswitch.KillSwitch} disables everything, a
 * backend, tools by glob, or a principal, effective on the next request and without a restart.
 */
@NullMarked
package dev.sentinel.core.killswitch;

import org.jspecify.annotations.NullMarked;
