package dev.sentinel.core.llm;

import dev.sentinel.api.Rate;
import dev.sentinel.core.internal.Glob;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * A budget of model tokens (input and output together, as the upstream's {@code usage} counts
 * them) per window, such as {@code 100000/day}. Before a request is forwarded, its {@code
 * max_tokens} (or the default reservation when it gives none) is taken from every budget that
 * applies; when its usage is known, the difference is given back or taken.
 *
 * @param id named in refusals and the audit trail
 * @param rate tokens per period (the bucket refills continuously), with its burst
 * @param per what buckets are keyed by: any of {@code principal}, {@code model}, {@code role};
 *     empty for one bucket for everyone the budget applies to
 * @param roles applies to callers holding any of these roles, or {@code null} for any
 * @param principals applies to principal ids matching any of these globs, or {@code null} for any
 * @param models applies to models matching any of these globs, or {@code null} for any
 */
public record TokenBudget(String id, Rate rate, Set<Per> per, @Nullable List<String> roles,
    @Nullable List<Glob> principals, @Nullable List<Glob> models) {

  /** What a budget's buckets are keyed by. */
  public enum Per {
    /** One bucket per principal. */
    PRINCIPAL,
    /** One bucket per model. */
    MODEL,
    /**
     * One bucket per role, shared by its members: a caller's request takes from the bucket of
     * each role it holds (of the budget's {@code roles}, when it names some), all or none;
     * callers holding no role share one.
     */
    ROLE
  }

  /** Validates and copies. */
  public TokenBudget {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(rate, "rate");
    per = Set.copyOf(per);
    roles = roles == null ? null : List.copyOf(roles);
    principals = principals == null ? null : List.copyOf(principals);
    models = models == null ? null : List.copyOf(models);
  }
}
