package io.cachet.benchmarks;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedMethod;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordedThread;
import jdk.jfr.consumer.RecordingFile;

/**
 * Prints where the CPU went in a Java Flight Recording: the methods most often on top of the
 * stack ("self") and most often anywhere on it ("total"), from its {@code jdk.ExecutionSample}
 * events, optionally only those of one thread or of stacks through one method.
 *
 * <pre>
 * java -XX:+UnlockDiagnosticVMOptions -XX:+DebugNonSafepoints \
 *     -XX:StartFlightRecording=filename=replay.jfr,settings=profile \
 *     -cp benchmarks/target/benchmarks.jar io.cachet.benchmarks.ReplayBenchmark
 * java -cp benchmarks/target/benchmarks.jar io.cachet.benchmarks.JfrHotSpots replay.jfr \
 *     thread=cachet-replica-bench top=25
 * java -cp benchmarks/target/benchmarks.jar io.cachet.benchmarks.JfrHotSpots replay.jfr \
 *     thread=main through=ReplayBenchmark.plain
 * </pre>
 *
 * Arguments after the file ({@code name=value}): {@code thread} (exact thread name), {@code
 * through} (a {@code Class.method} suffix that must be on the stack, e.g. {@code
 * ReplayBenchmark.plain}), {@code top} [20], {@code site} [false; true adds to each method on top
 * of the stack the innermost Cachet frame below it, with its line]. Sampling sees only threads running Java code, so
 * time a thread spends waiting (for a fetch, a lock) does not show. Record with {@code
 * -XX:+DebugNonSafepoints}: without it, samples in compiled code are charged to the frame of the
 * nearest safepoint, which can be another method entirely.
 */
public final class JfrHotSpots {

  private JfrHotSpots() {}

  /**
   * Reads the recording and prints the tables.
   *
   * @param args the recording file, then {@code name=value} filters
   * @throws IOException when the file cannot be read
   */
  public static void main(String[] args) throws IOException {
    if (args.length == 0) {
      throw new IllegalArgumentException("usage: JfrHotSpots file.jfr [thread=NAME] [through=Class.method] [top=20]");
    }
    Map<String, String> a = ReplicationFixtures.arguments(List.of(args).subList(1, args.length).toArray(String[]::new),
        Map.of("thread", "", "through", "", "top", "20", "site", "false"),
        "JfrHotSpots file.jfr [thread=NAME] [through=Class.method] [top=20] [site=false]");
    boolean site = Boolean.parseBoolean(a.get("site"));
    String thread = a.get("thread");
    String through = a.get("through");
    int top = Integer.parseInt(a.get("top"));
    Map<String, Integer> self = new HashMap<>();
    Map<String, Integer> total = new HashMap<>();
    int samples = 0;
    for (RecordedEvent event : RecordingFile.readAllEvents(Path.of(args[0]))) {
      if (!event.getEventType().getName().equals("jdk.ExecutionSample")) {
        continue;
      }
      RecordedThread sampled = event.getThread("sampledThread");
      if (!thread.isEmpty() && (sampled == null || !thread.equals(sampled.getJavaName()))) {
        continue;
      }
      RecordedStackTrace stack = event.getStackTrace();
      if (stack == null || stack.getFrames().isEmpty()) {
        continue;
      }
      List<RecordedFrame> frames = stack.getFrames();
      if (!through.isEmpty() && frames.stream().noneMatch(f -> name(f).endsWith(through))) {
        continue;
      }
      samples++;
      self.merge(site ? name(frames.get(0)) + callSite(frames) : name(frames.get(0)), 1, Integer::sum);
      Set<String> seen = new HashSet<>();
      for (RecordedFrame f : frames) {
        if (seen.add(name(f))) {
          total.merge(name(f), 1, Integer::sum);
        }
      }
    }
    System.out.printf(Locale.ROOT, "%,d execution samples%s%s%n", samples,
        thread.isEmpty() ? "" : " of thread " + thread, through.isEmpty() ? "" : " through " + through);
    print("self (top of stack)", self, samples, top);
    print("total (anywhere on the stack)", total, samples, top);
  }

  private static void print(String title, Map<String, Integer> counts, int samples, int top) {
    System.out.printf(Locale.ROOT, "%n| %% %s | method |%n| ---: | --- |%n", title);
    counts.entrySet().stream()
        .sorted(Map.Entry.<String, Integer>comparingByValue().reversed())
        .limit(top)
        .forEach(e -> System.out.printf(Locale.ROOT, "| %.1f | `%s` |%n", 100.0 * e.getValue() / samples, e.getKey()));
  }

  /** The innermost Cachet frame below the top one, with its line: where Cachet's code made the call. */
  private static String callSite(List<RecordedFrame> frames) {
    for (int i = 1; i < frames.size(); i++) {
      RecordedFrame f = frames.get(i);
      if (f.getMethod().getType().getName().startsWith("io.cachet.")
          && !f.getMethod().getType().getName().startsWith("io.cachet.benchmarks.")) {
        return " <- " + name(f) + ":" + f.getLineNumber();
      }
    }
    return "";
  }

  private static String name(RecordedFrame frame) {
    RecordedMethod m = frame.getMethod();
    String type = m.getType().getName();
    return type.substring(type.lastIndexOf('.') + 1) + "." + m.getName();
  }
}
