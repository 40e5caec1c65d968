package dev.sentinel.core.bundle;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.jspecify.annotations.Nullable;

/** {@link BundleStore#inMemory()}: the heads in a map, under this object's lock. */
final class InMemoryBundleStore implements BundleStore {
  private final Map<String, PublishedBundle> heads = new HashMap<>(); // guarded by this
  private final Map<String, Heartbeat> beats = new HashMap<>(); // guarded by this
  private final List<PublishedBundle> staged = new ArrayList<>(); // guarded by this
  private final Map<String, Rollout> rollouts = new HashMap<>(); // guarded by this
  private long lastRollout; // guarded by this
  private final List<Runnable> watchers = new CopyOnWriteArrayList<>();

  @Override
  public PublishedBundle publish(String channel, byte[] bundle, String publishedBy, Instant at) {
    PublishedBundle.checkChannel(channel);
    Bundle parsed = Bundle.parse(Objects.requireNonNull(bundle, "bundle"));
    PublishedBundle published = new PublishedBundle(channel, parsed.digest(), parsed.sequence(),
        bundle, at, publishedBy);
    synchronized (this) {
      heads.put(channel, published);
    }
    watchers.forEach(Runnable::run);
    return published;
  }

  @Override
  public PublishedBundle publishStaged(String channel, byte[] bundle, String publishedBy,
      Instant at) {
    PublishedBundle.checkChannel(channel);
    Bundle parsed = Bundle.parse(Objects.requireNonNull(bundle, "bundle"));
    PublishedBundle published = new PublishedBundle(channel, parsed.digest(), parsed.sequence(),
        bundle, at, publishedBy);
    synchronized (this) {
      staged.add(published);
    }
    return published;
  }

  @Override
  public synchronized Optional<PublishedBundle> published(String channel, String digest) {
    PublishedBundle head = heads.get(channel);
    if (head != null && head.digest().equals(digest)) {
      return Optional.of(head);
    }
    for (int i = staged.size() - 1; i >= 0; i--) {
      PublishedBundle each = staged.get(i);
      if (each.channel().equals(channel) && each.digest().equals(digest)) {
        return Optional.of(each);
      }
    }
    return Optional.empty();
  }

  @Override
  public Optional<Rollout> startRollout(Rollout rollout) {
    Rollout stored;
    synchronized (this) {
      Rollout current = rollouts.get(rollout.channel());
      if (current != null && current.started()) {
        return Optional.empty();
      }
      stored = new Rollout(++lastRollout, rollout.channel(), rollout.digest(),
          rollout.sequence(), rollout.canaries(), Rollout.State.STARTED,
          rollout.previousDigest(), rollout.abortOnErrorRate(), rollout.baseline(),
          rollout.startedAt(), rollout.startedBy(), null, null, null);
      rollouts.put(rollout.channel(), stored);
    }
    watchers.forEach(Runnable::run);
    return Optional.of(stored);
  }

  @Override
  public synchronized Optional<Rollout> rollout(String channel) {
    return Optional.ofNullable(rollouts.get(channel));
  }

  @Override
  public Optional<Rollout> endRollout(String channel, long id, Rollout.State to, String by,
      Instant at, @Nullable String reason) {
    Objects.requireNonNull(to, "to");
    Objects.requireNonNull(by, "by");
    Rollout ended;
    synchronized (this) {
      Rollout current = rollouts.get(channel);
      if (current == null || current.id() != id || !current.started()) {
        return Optional.empty();
      }
      if (to == Rollout.State.PROMOTED) {
        PublishedBundle bundle = published(channel, current.digest()).orElseThrow(() ->
            new BundleException(current.describe() + " names a bundle no longer published"));
        heads.put(channel, new PublishedBundle(channel, bundle.digest(), bundle.sequence(),
            bundle.bytes(), at, by));
      }
      ended = new Rollout(current.id(), channel, current.digest(), current.sequence(),
          current.canaries(), to, current.previousDigest(), current.abortOnErrorRate(),
          current.baseline(), current.startedAt(), current.startedBy(), at, by, reason);
      rollouts.put(channel, ended);
    }
    watchers.forEach(Runnable::run);
    return Optional.of(ended);
  }

  @Override
  public synchronized int purgeHeartbeats(Instant before) {
    int size = beats.size();
    beats.values().removeIf(b -> b.seenAt().isBefore(before));
    return size - beats.size();
  }

  @Override
  public synchronized Optional<PublishedBundle> head(String channel) {
    return Optional.ofNullable(heads.get(channel));
  }

  @Override
  public synchronized void heartbeat(Heartbeat beat) {
    beats.put(beat.instance(), Objects.requireNonNull(beat, "beat"));
  }

  @Override
  public synchronized List<Heartbeat> heartbeats() {
    List<Heartbeat> all = new ArrayList<>(beats.values());
    all.sort(Comparator.comparing(Heartbeat::instance));
    return all;
  }

  @Override
  public Watch watch(Runnable onPublish) {
    Objects.requireNonNull(onPublish, "onPublish");
    Runnable mine = () -> onPublish.run();
    watchers.add(mine);
    return () -> watchers.remove(mine);
  }
}
