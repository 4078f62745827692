package io.cachet.replicated;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.LoggerFactory;

/**
 * Collects the log events of one logger while open, for tests that assert a WARN was logged.
 * Events arrive on the apply thread, so they are kept in a thread-safe list.
 */
final class CapturedLogs extends AppenderBase<ILoggingEvent> implements AutoCloseable {

  private final Logger logger;
  private final List<ILoggingEvent> events = new CopyOnWriteArrayList<>();

  private CapturedLogs(Class<?> source) {
    this.logger = (Logger) LoggerFactory.getLogger(source);
  }

  /** Starts capturing what {@code source}'s logger logs. */
  static CapturedLogs of(Class<?> source) {
    CapturedLogs logs = new CapturedLogs(source);
    logs.setContext(logs.logger.getLoggerContext());
    logs.start();
    logs.logger.addAppender(logs);
    return logs;
  }

  @Override
  protected void append(ILoggingEvent event) {
    events.add(event);
  }

  /** Returns the formatted messages logged at WARN so far. */
  List<String> warnings() {
    return events.stream()
        .filter(e -> e.getLevel() == Level.WARN)
        .map(ILoggingEvent::getFormattedMessage)
        .toList();
  }

  /** Returns the formatted messages logged at ERROR so far. */
  List<String> errors() {
    return events.stream()
        .filter(e -> e.getLevel() == Level.ERROR)
        .map(ILoggingEvent::getFormattedMessage)
        .toList();
  }

  @Override
  public void close() {
    logger.detachAppender(this);
    stop();
  }
}
