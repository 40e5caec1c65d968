/**
 * Public for Sentinel's own modules, not API: types here may change in any release.
 */
package dev.sentinel.core.internal;
