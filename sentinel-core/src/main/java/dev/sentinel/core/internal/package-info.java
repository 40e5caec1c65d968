/**
 * Public for Sentinel's own modules, not API: types here may change in any release.
 */
@NullMarked
package dev.sentinel.core.internal;

import org.jspecify.annotations.NullMarked;
