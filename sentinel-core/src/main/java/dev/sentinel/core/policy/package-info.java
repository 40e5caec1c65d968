/**
 * The policy engine: YAML policies compiled into an index, deciding allow, deny or confirm for
 * each request, filtering lists, and explaining itself. The front door is
 * {@link dev.sentinel.core.policy.PolicyEngine}. Test cases written beside a policy, lint and
 * the diff of two policies are tooling, in module {@code sentinel-policy-tools}
 * ({@code dev.sentinel.policy.tools}).
 *
 * <h2>File format</h2>
 *
 * <pre>
 * roles:                          # every role referenced anywhere must be declared here
 *   admin: { inherits: [developer] }
 *   developer: { inherits: [readonly] }
 *   readonly: {}
 * rules:
 *   - id: devs-write-in-workspace # required, unique
 *     description: optional text
 *     allow:                      # exactly one of allow, deny, confirm
 *       roles: [developer]        # holds any of these, after inheritance
 *       principals: [alice, "svc-*"]
 *       attributes: { team: [payments, ops] }
 *       methods: ["tools/call"]   # default: derived from tools / prompts / resources
 *       backends: [fs]
 *       tools: ["fs__write_file"]
 *       prompts: [...]
 *       resources: ["file:///workspace/**"]
 *       when: { "/path": { glob: "/workspace/**" }, "/files/*": { maxLength: 200 } }
 *       when_cel: 'args.mode != "force"'  # with sentinel-policy-cel registered
 *       during: { days: [mon-fri], hours: "09:00-18:00", zone: Europe/Berlin }
 *     reason: text shown to the caller
 * limits:
 *   - { id: per-user, rate: 60/min, burst: 100, per: [principal], tools: ["db__*"], cost: 1 }
 * </pre>
 *
 * <p>Every key is checked; unknown keys are errors that name the nearest valid key. Lists of
 * names accept a single string as a list of one; a present list must not be empty (remove the
 * key to match anything).
 *
 * <h2>Matching</h2>
 *
 * <p>All constraints a rule sets must hold; within a constraint any listed value may match.
 * A rule that sets no principal constraint ({@code roles}, {@code principals},
 * {@code attributes}) matches every principal; {@code attributes} needs every named attribute to
 * have one of the listed values. Names, principal ids, backends and methods are globs
 * ({@code *}, {@code **}, {@code ?}). Without {@code methods}, a rule naming tools matches
 * {@code tools/call}, one naming prompts {@code prompts/get}, one naming resources
 * {@code resources/read}, {@code resources/subscribe} and {@code resources/unsubscribe}; a rule
 * naming no target matches any method. A rule naming targets matches a request only when it
 * names targets of the request's kind.
 *
 * <p>{@code when} maps JSON Pointers into the arguments to operators, all of which must hold:
 * {@code equals}, {@code in}, {@code glob}, {@code regex} (found anywhere), {@code prefix},
 * {@code gt}, {@code gte}, {@code lt}, {@code lte}, {@code exists}, {@code maxLength}. Operators
 * are typed: numeric operators accept only finite JSON numbers (compared exactly), text operators
 * only strings, {@code maxLength} strings and arrays, {@code equals} and {@code in} the types of
 * the listed values. A value of another type is a type mismatch, which counts as a match in a
 * {@code deny} or {@code confirm} rule and as no match in an {@code allow} rule, unless the
 * condition says {@code on_type_mismatch: match | no_match}. A missing value fails every operator
 * but {@code exists: false}. A pointer segment {@code *} visits every element of an array or
 * member of an object, combined by {@code wildcard: any} (the default for deny and confirm) or
 * {@code all} (the default for allow; all over no values never allows), or counted with
 * {@code count: { gte: 1, lte: 10 }}; at most 10,000 values are visited. A regex search that
 * backtracks past its budget, and a wildcard past its limit, are undecided and fail closed like
 * a mismatch. A {@code glob} or {@code prefix} that starts with {@code /} compares against the
 * value normalized as a POSIX path ({@code //}, {@code .} and {@code ..} resolved); a path
 * climbing above {@code /} matches nothing. {@code during} checks the request time against days
 * and hours in a zone (UTC by default).
 *
 * <p>A rule may also hold one expression in a {@link dev.sentinel.core.policy.ConditionLanguage}
 * registered with {@link dev.sentinel.core.policy.PolicyOptions}, such as CEL's
 * {@code when_cel} (module {@code sentinel-policy-cel}): compiled when the policy loads (a bad
 * expression is a located error, and so is a key whose language was not registered), and
 * failing closed when undecided, like a type mismatch.
 *
 * <h2>Limits</h2>
 *
 * <p>{@code limits} become {@link dev.sentinel.core.limit.LimitRule}s. Their {@code backends},
 * {@code principals} and {@code methods} are exact names; their {@code roles} are expanded at
 * load to every role that inherits them, so a limit on {@code developer} also applies to admins.
 */
@NullMarked
package dev.sentinel.core.policy;

import org.jspecify.annotations.NullMarked;
