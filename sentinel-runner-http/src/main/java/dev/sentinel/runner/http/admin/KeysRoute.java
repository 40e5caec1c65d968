package dev.sentinel.runner.http.admin;

import dev.sentinel.api.Clock;
import dev.sentinel.api.StoredKey;
import dev.sentinel.core.auth.IssuedKey;
import dev.sentinel.operator.KeyOperations;
import dev.sentinel.operator.Operations;
import dev.sentinel.runner.http.admin.AdminExchange.Answer;
import dev.sentinel.runner.http.admin.AdminExchange.BadRequest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code /admin/api/keys}: list ({@code GET}), create ({@code POST}), revoke ({@code DELETE
 * /keys/{id}}) and rotate ({@code POST /keys/{id}/rotate}), over the operator service's {@link
 * KeyOperations}. A secret is answered once, at create or rotate; hashes never.
 */
final class KeysRoute implements AdminExchange.Route {
  private static final Logger log = LoggerFactory.getLogger(KeysRoute.class);
  private static final Set<String> CREATE_FIELDS = Set.of("principal", "roles", "name", "expires");
  private static final Set<String> ROTATE_FIELDS = Set.of("expires");

  private final Operations operations;
  private final Clock clock;

  KeysRoute(Operations operations, Clock clock) {
    this.operations = operations;
    this.clock = clock;
  }

  @Override
  public Answer handle(AdminExchange x) {
    if (x.segments(1)) {
      x.allow("GET", "HEAD", "POST");
      return x.is("POST") ? new Answer(201, create(x.body(CREATE_FIELDS))) : Answer.ok(list());
    }
    if (x.segments(2)) {
      x.allow("DELETE");
      return revoke(x.parts()[1]);
    }
    if (x.segments(3) && x.parts()[2].equals("rotate")) {
      x.allow("POST");
      return new Answer(201, rotate(x.parts()[1], x.body(ROTATE_FIELDS)));
    }
    throw AdminExchange.notFound();
  }

  private ObjectNode list() {
    Instant now = clock.instant();
    ObjectNode body = AdminExchange.NODES.objectNode();
    ArrayNode list = body.putArray("keys");
    for (StoredKey key : operations.keys().list()) {
      list.add(key(key, now));
    }
    return body;
  }

  private ObjectNode create(ObjectNode body) {
    KeyOperations keys = operations.keys();
    String principal = AdminExchange.requiredText(body, "principal");
    List<String> roles = new ArrayList<>();
    JsonNode given = body.path("roles");
    if (!given.isMissingNode() && !given.isNull()) {
      if (!given.isArray()) {
        throw new BadRequest(400, "'roles' must be an array of role names");
      }
      for (JsonNode role : given) {
        if (!role.isString()) {
          throw new BadRequest(400, "'roles' must be an array of role names (strings)");
        }
        roles.add(role.stringValue());
      }
    }
    IssuedKey issued = keys.create(principal, roles, AdminExchange.text(body, "name"),
        AdminExchange.text(body, "expires"), "'expires'");
    log.info("operator created API key {} for principal {}", issued.id(), issued.key().principal());
    return issued(issued);
  }

  private Answer revoke(String id) {
    KeyOperations.Revoked revoked = operations.keys().revoke(id);
    StoredKey key = revoked.key();
    switch (revoked.revocation()) {
      case ALREADY_REVOKED:
        throw new BadRequest(409, "API key " + id + " was already revoked at " + key.revoked());
      case EXPIRED:
        throw new BadRequest(409, "API key " + id + " expired at " + key.expires()
            + "; it no longer works, nothing to revoke");
      default:
        log.info("operator revoked API key {}", id);
        return Answer.ok(key(key, clock.instant()));
    }
  }

  private ObjectNode rotate(String id, ObjectNode body) {
    IssuedKey fresh = operations.keys().rotate(id, AdminExchange.text(body, "expires"),
        "'expires'");
    log.info("operator rotated API key {} into {}", id, fresh.id());
    ObjectNode answer = issued(fresh);
    answer.put("replaces", id);
    return answer;
  }

  private ObjectNode issued(IssuedKey issued) {
    ObjectNode body = key(issued.key(), clock.instant());
    body.put("secret", issued.secret());
    body.put("note", "this is the only time the key is shown: Sentinel stores only its hash");
    return body;
  }

  private static ObjectNode key(StoredKey key, Instant now) {
    ObjectNode node = AdminExchange.NODES.objectNode();
    node.put("id", key.id());
    node.put("principal", key.principal());
    ArrayNode roles = node.putArray("roles");
    new TreeSet<>(key.roles()).forEach(roles::add);
    node.put("name", key.name());
    node.put("created", text(key.created()));
    node.put("expires", text(key.expires()));
    node.put("revoked", text(key.revoked()));
    node.put("last_used", text(key.lastUsed()));
    node.put("status", KeyOperations.status(key, now));
    return node;
  }

  private static @Nullable String text(@Nullable Instant instant) {
    return instant == null ? null : instant.toString();
  }
}
