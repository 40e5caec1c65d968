/**
 * The operators' side of {@code sentinel http}: the admin API under {@code /admin/api/} (status,
 * kill switch, reload, API keys, audit query) and the operator page at {@code /admin/}, both
 * served only when {@code server.admin.token} is configured and, for the API, only to requests
 * that present it as {@code Authorization: Bearer}. See docs/http.md, "Admin API".
 */
@NullMarked
package dev.sentinel.runner.http.admin;

import org.jspecify.annotations.NullMarked;
