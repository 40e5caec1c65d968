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

/** {@link BundleStore#inMemory()}: the heads in a map, under this object's lock. */
final class InMemoryBundleStore implements BundleStore {
  private final Map<String, PublishedBundle> heads = new HashMap<>(); // guarded by this
  private final Map<String, Heartbeat> beats = new HashMap<>(); // guarded by this
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
