package io.cachet.benchmarks;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Prints JMH CSV results ({@code -rf csv}) as a Markdown table with each implementation's ratio to
 * the baselines measured in the same run.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar io.cachet.benchmarks.Ratios local-t1.csv local-t2.csv
 * </pre>
 *
 * <p>Rows are grouped by results file, benchmark and thread count; within a group each score is
 * divided by the score of each baseline implementation present in the group ({@link #BASELINES}:
 * {@code CAFFEINE}, {@code SYNC_LINKED_HASH_MAP} and {@code CONCURRENT_HASH_MAP} for local reads, {@code
 * REDISSON_LOCAL_CACHED_MAP} for near-cache hits, {@code REDISSON_BUCKET_GET} for near-cache
 * misses); a table has a column for each baseline found in its input. A ratio's direction follows
 * the unit: for throughput ({@code ops/s}) higher is better, for time per operation ({@code us/op})
 * lower is better, and the column header says which. Results of different files are never divided
 * by each other, since they may come from different machine states. Secondary metrics (profiler
 * rows such as {@code :gc.alloc.rate}, {@code SampleTime} percentiles) are skipped.
 */
public final class Ratios {

  /** The JMH parameter that names the implementation. */
  static final String PARAM_COLUMN = "Param: impl";
  /** The baselines, in column order; a table shows those present in its input. */
  static final List<String> BASELINES =
      List.of(
          "CAFFEINE",
          "SYNC_LINKED_HASH_MAP",
          "CONCURRENT_HASH_MAP",
          "REDISSON_LOCAL_CACHED_MAP",
          "REDISSON_BUCKET_GET");

  private Ratios() {}

  /**
   * Reads the CSV files named by {@code args} and prints the table to standard output.
   *
   * @param args one or more JMH CSV result files
   */
  public static void main(String[] args) {
    if (args.length == 0) {
      System.err.println("usage: Ratios results.csv [more.csv ...]");
      System.exit(2);
    }
    List<Row> rows = new ArrayList<>();
    try {
      for (int i = 0; i < args.length; i++) {
        rows.addAll(read(Path.of(args[i]), i));
      }
    } catch (IllegalArgumentException | UncheckedIOException e) {
      System.err.println("Ratios: " + e.getMessage());
      System.exit(1);
    }
    System.out.print(table(rows));
  }

  /** One primary result: a benchmark at one thread count with one implementation. */
  record Row(
      int file, String benchmark, int threads, String impl, double score, double error, String unit) {}

  static List<Row> read(Path path, int file) {
    List<String> lines;
    try {
      lines = Files.readAllLines(path, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + path, e);
    }
    if (lines.isEmpty()) {
      throw new IllegalArgumentException(path + " is empty");
    }
    List<String> header = parseCsvLine(lines.get(0));
    int benchmark = column(header, "Benchmark", path);
    int threads = column(header, "Threads", path);
    int score = column(header, "Score", path);
    int error = column(header, "Score Error (99.9%)", path);
    int unit = column(header, "Unit", path);
    int impl = column(header, PARAM_COLUMN, path);

    List<Row> rows = new ArrayList<>();
    for (int n = 1; n < lines.size(); n++) {
      if (lines.get(n).isBlank()) {
        continue;
      }
      List<String> f = parseCsvLine(lines.get(n));
      String name = f.get(benchmark);
      if (name.contains(":")) {
        continue; // a secondary metric, such as a profiler's
      }
      rows.add(
          new Row(
              file,
              name.substring(name.lastIndexOf('.', name.lastIndexOf('.') - 1) + 1),
              Integer.parseInt(f.get(threads).trim()),
              f.get(impl),
              number(f.get(score)),
              number(f.get(error)),
              f.get(unit)));
    }
    return rows;
  }

  static String table(List<Row> rows) {
    Map<List<Object>, List<Row>> groups = new LinkedHashMap<>();
    for (Row row : rows) {
      groups.computeIfAbsent(List.of(row.file(), row.benchmark(), row.threads()), k -> new ArrayList<>())
          .add(row);
    }
    List<List<Row>> ordered = new ArrayList<>(groups.values());
    ordered.sort(
        Comparator.comparing((List<Row> g) -> g.get(0).benchmark())
            .thenComparingInt(g -> g.get(0).threads())
            .thenComparingInt(g -> g.get(0).file()));

    boolean oneUnit = rows.stream().map(Row::unit).distinct().count() <= 1;
    String scoreHeader = oneUnit && !rows.isEmpty() ? "Score (" + rows.get(0).unit() + ")" : "Score";

    List<String> baselines = new ArrayList<>();
    for (String baseline : BASELINES) {
      if (rows.stream().anyMatch(r -> r.impl().equals(baseline))) {
        baselines.add(baseline);
      }
    }

    StringBuilder out = new StringBuilder();
    out.append("| Benchmark | Threads | Impl | ").append(scoreHeader).append(" | ± Error |");
    StringBuilder rule = new StringBuilder("|---|---:|---|---:|---:|");
    for (String baseline : baselines) {
      out.append(" vs ").append(baseline).append(direction(ordered, baseline)).append(" |");
      rule.append("---:|");
    }
    out.append('\n').append(rule).append('\n');
    for (List<Row> group : ordered) {
      for (Row row : group) {
        out.append("| ").append(row.benchmark())
            .append(" | ").append(row.threads())
            .append(" | ").append(row.impl())
            .append(" | ").append(score(row.score()))
            .append(oneUnit ? "" : " " + row.unit())
            .append(" | ").append(Double.isNaN(row.error()) ? "n/a" : score(row.error()))
            .append(" |");
        for (String baseline : baselines) {
          Row base = find(group, baseline);
          out.append(' ')
              .append(base == null || base.score() == 0 ? "n/a" : format("%.2f", row.score() / base.score()))
              .append(" |");
        }
        out.append('\n');
      }
    }
    out.append('\n')
        .append("Ratios divide by the baseline's score for the same benchmark and thread count")
        .append(" in the same results file; the error is JMH's 99.9% confidence half-width")
        .append(" (n/a with fewer than two measured iterations). For ops/time higher is better;")
        .append(" for time/op lower is better.\n");
    return out.toString();
  }

  /** Whether a higher score is better: a throughput unit such as {@code ops/s}. */
  static boolean higherIsBetter(String unit) {
    return !unit.endsWith("/op");
  }

  /** The header note on a baseline's column: which way is better for the rows it divides. */
  private static String direction(List<List<Row>> groups, String baseline) {
    boolean higher = false;
    boolean lower = false;
    for (List<Row> group : groups) {
      if (find(group, baseline) != null) {
        for (Row row : group) {
          if (higherIsBetter(row.unit())) {
            higher = true;
          } else {
            lower = true;
          }
        }
      }
    }
    if (higher && lower) {
      return " (ops/time: higher is better; time/op: lower is better)";
    }
    return lower ? " (lower is better)" : " (higher is better)";
  }

  /** Large scores (ops/s) without decimals; small ones (us/op) with enough to compare. */
  private static String score(double value) {
    double magnitude = Math.abs(value);
    if (magnitude >= 1000) {
      return format("%,.0f", value);
    }
    return format(magnitude >= 100 ? "%.1f" : magnitude >= 10 ? "%.2f" : "%.3f", value);
  }

  private static @Nullable Row find(List<Row> group, String impl) {
    for (Row row : group) {
      if (row.impl().equals(impl)) {
        return row;
      }
    }
    return null;
  }

  private static int column(List<String> header, String name, Path path) {
    int i = header.indexOf(name);
    if (i < 0) {
      throw new IllegalArgumentException(
          path + " has no column '" + name + "'; columns: " + header
              + " (is it JMH CSV output of a benchmark with an 'impl' parameter?)");
    }
    return i;
  }

  private static double number(String text) {
    String t = text.trim();
    if (t.isEmpty() || t.equalsIgnoreCase("NaN")) {
      return Double.NaN;
    }
    // JMH formats with the default locale; accept a decimal comma too.
    return Double.parseDouble(t.indexOf('.') < 0 ? t.replace(',', '.') : t);
  }

  private static String format(String pattern, double value) {
    return String.format(Locale.ROOT, pattern, value);
  }

  /** Splits one CSV line (RFC 4180 quoting, no embedded newlines, as JMH writes it). */
  static List<String> parseCsvLine(String line) {
    List<String> fields = new ArrayList<>();
    StringBuilder field = new StringBuilder();
    boolean quoted = false;
    for (int i = 0; i < line.length(); i++) {
      char c = line.charAt(i);
      if (quoted) {
        if (c == '"' && i + 1 < line.length() && line.charAt(i + 1) == '"') {
          field.append('"');
          i++;
        } else if (c == '"') {
          quoted = false;
        } else {
          field.append(c);
        }
      } else if (c == '"') {
        quoted = true;
      } else if (c == ',') {
        fields.add(field.toString());
        field.setLength(0);
      } else {
        field.append(c);
      }
    }
    fields.add(field.toString());
    return fields;
  }
}
