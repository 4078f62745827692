package io.cachet.examples.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Reads a process's resident memory (VmRSS in {@code /proc/<pid>/status}, Linux), for system
 * tests that check a server's memory stays bounded under a misbehaving client, and samples its
 * peak while something runs.
 */
public final class ProcessMemory implements AutoCloseable {

  private final long pid;
  private final AtomicLong peakKib = new AtomicLong();
  private final Thread sampler;
  private volatile boolean stopped;

  private ProcessMemory(long pid) {
    this.pid = pid;
    this.sampler = new Thread(this::sample, "rss-sampler-" + pid);
    sampler.setDaemon(true);
  }

  /** Returns the resident set size of process {@code pid}, in KiB. */
  public static long rssKib(long pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.substring(6).replace("kB", "").trim());
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the memory of process " + pid, e);
    }
    throw new IllegalStateException("no VmRSS for process " + pid);
  }

  /** Starts sampling the RSS of {@code pid} every 20 ms until {@link #close()}. */
  public static ProcessMemory sample(long pid) {
    ProcessMemory memory = new ProcessMemory(pid);
    memory.peakKib.set(rssKib(pid));
    memory.sampler.start();
    return memory;
  }

  /** Returns the highest RSS seen so far, in KiB. */
  public long peakKib() {
    return peakKib.get();
  }

  private void sample() {
    while (!stopped) {
      try {
        long rss = rssKib(pid);
        peakKib.accumulateAndGet(rss, Math::max);
        Thread.sleep(20);
      } catch (InterruptedException e) {
        return;
      } catch (RuntimeException e) {
        return; // the process exited
      }
    }
  }

  @Override
  public void close() {
    stopped = true;
    sampler.interrupt();
    try {
      sampler.join(1000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
