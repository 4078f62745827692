package io.cachet.benchmarks;

import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * A pre-generated stream of Zipf-distributed, pre-boxed {@link Integer} keys, so that a benchmark's
 * measured loop does no random-number generation and no boxing.
 *
 * <p>Rank {@code r} (0 = hottest) has weight {@code 1 / (r + 1)^exponent}. Ranks map to key values
 * through a seeded random permutation ("scrambled"), so the hottest keys are spread over a hash
 * table as real keys would be, not packed into neighbouring buckets. The same seed gives the same
 * stream, so every implementation in a run sees identical keys. Immutable after construction.
 */
final class ZipfKeys {

  private final Integer[] byRank;
  private final Integer[] samples;

  /**
   * Generates {@code sampleCount} samples over {@code items} distinct keys.
   *
   * @param items the number of distinct keys (ranks)
   * @param exponent the Zipf exponent; 0.99 is YCSB's and Caffeine's {@code GetPutBenchmark}'s
   * @param sampleCount the length of the stream; a power of two so callers can index with a mask
   * @param seed the seed of both the permutation and the samples
   */
  ZipfKeys(int items, double exponent, int sampleCount, long seed) {
    if (items <= 0) {
      throw new IllegalArgumentException("items must be > 0, was " + items);
    }
    if (Integer.bitCount(sampleCount) != 1) {
      throw new IllegalArgumentException("sampleCount must be a power of two, was " + sampleCount);
    }
    SplittableRandom random = new SplittableRandom(seed);

    int[] values = new int[items];
    Arrays.setAll(values, i -> i);
    for (int i = items - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int swap = values[i];
      values[i] = values[j];
      values[j] = swap;
    }
    byRank = new Integer[items];
    for (int rank = 0; rank < items; rank++) {
      byRank[rank] = values[rank]; // boxed once; samples share these instances
    }

    // Inverse-CDF sampling: exact for any exponent, and cheap at this size.
    double[] cumulative = new double[items];
    double total = 0;
    for (int rank = 0; rank < items; rank++) {
      total += 1 / Math.pow(rank + 1, exponent);
      cumulative[rank] = total;
    }
    samples = new Integer[sampleCount];
    for (int i = 0; i < sampleCount; i++) {
      double u = random.nextDouble() * total;
      int rank = Arrays.binarySearch(cumulative, u);
      if (rank < 0) {
        rank = -rank - 1; // the first rank whose cumulative weight exceeds u
      }
      samples[i] = byRank[Math.min(rank, items - 1)];
    }
  }

  /** Returns the key of {@code rank}, 0 being the hottest. */
  Integer keyOfRank(int rank) {
    return byRank[rank];
  }

  /** Returns the number of distinct keys. */
  int items() {
    return byRank.length;
  }

  /** Returns the sample stream; callers must not modify it. */
  Integer[] samples() {
    return samples;
  }

  /** Returns the fraction of samples whose rank is below {@code ranks}: the ideal hit ratio. */
  double fractionBelowRank(int ranks) {
    Set<Integer> hot = Collections.newSetFromMap(new IdentityHashMap<>());
    for (int rank = 0; rank < Math.min(ranks, byRank.length); rank++) {
      hot.add(byRank[rank]);
    }
    long count = Arrays.stream(samples).filter(hot::contains).count();
    return (double) count / samples.length;
  }
}
