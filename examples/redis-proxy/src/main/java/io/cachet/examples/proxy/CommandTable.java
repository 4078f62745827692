package io.cachet.examples.proxy;

import static java.nio.charset.StandardCharsets.US_ASCII;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.List;
import java.util.Locale;

/**
 * The {@code COMMAND} command: what the proxy supports, in the reply format of Redis 6
 * ({@code name, arity, flags, first key, last key, step, ACL categories}), so redis-cli and client
 * libraries that introspect the server find the read commands they may use.
 * Subcommands: {@code COUNT}, {@code INFO name...}, {@code LIST}, {@code DOCS} (empty) and
 * {@code HELP}.
 */
final class CommandTable {

  private record Entry(String name, int arity, List<String> flags, int firstKey, int lastKey, int step, List<String> categories) {}

  private static final List<Entry> ENTRIES = List.of(
      new Entry("get", 2, List.of("readonly", "fast"), 1, 1, 1, List.of("@read", "@string", "@fast")),
      new Entry("mget", -2, List.of("readonly", "fast"), 1, -1, 1, List.of("@read", "@string", "@fast")),
      new Entry("ping", -1, List.of("fast", "stale"), 0, 0, 0, List.of("@fast", "@connection")),
      new Entry("echo", 2, List.of("fast"), 0, 0, 0, List.of("@fast", "@connection")),
      new Entry("quit", -1, List.of("fast", "stale", "loading"), 0, 0, 0, List.of("@fast", "@connection")),
      new Entry("command", -1, List.of("random", "loading", "stale"), 0, 0, 0, List.of("@slow", "@connection")));

  private static final List<String> HELP = List.of(
      "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "(no subcommand)",
      "    Return details about all commands this proxy supports.",
      "COUNT",
      "    Return the number of commands this proxy supports.",
      "INFO <command-name> [<command-name> ...]",
      "    Return details about the given commands.",
      "LIST",
      "    Return the names of the supported commands.",
      "DOCS [<command-name> ...]",
      "    Return an empty documentation map.",
      "HELP",
      "    Print this help.");

  private CommandTable() {}

  /** Returns the reply to {@code COMMAND [subcommand args...]}. */
  static ByteBuf reply(ByteBufAllocator alloc, List<byte[]> args) {
    ByteBuf buf = alloc.ioBuffer(256);
    if (args.size() == 1) {
      header(buf, '*', ENTRIES.size());
      ENTRIES.forEach(e -> write(buf, e));
      return buf;
    }
    String sub = new String(args.get(1), US_ASCII).toUpperCase(Locale.ROOT);
    switch (sub) {
      case "COUNT" -> {
        if (args.size() != 2) {
          return arity(buf, "count");
        }
        header(buf, ':', ENTRIES.size());
      }
      case "LIST" -> {
        header(buf, '*', ENTRIES.size());
        ENTRIES.forEach(e -> bulk(buf, e.name()));
      }
      case "INFO" -> {
        header(buf, '*', args.size() - 2);
        for (int i = 2; i < args.size(); i++) {
          String name = new String(args.get(i), US_ASCII).toLowerCase(Locale.ROOT);
          Entry entry = ENTRIES.stream().filter(e -> e.name().equals(name)).findFirst().orElse(null);
          if (entry == null) {
            buf.writeCharSequence("*-1\r\n", US_ASCII);
          } else {
            write(buf, entry);
          }
          // About 80 bytes for a 4-byte name: built whole, so bounded as other built replies are.
          if (buf.writerIndex() > Resp.MAX_BUILT_ARRAY_REPLY_BYTES) {
            buf.release();
            return Resp.error(alloc, "ERR COMMAND INFO reply over " + Resp.MAX_BUILT_ARRAY_REPLY_BYTES
                + " bytes: ask for fewer commands at a time");
          }
        }
      }
      case "DOCS" -> header(buf, '*', 0);
      case "HELP" -> {
        header(buf, '*', HELP.size());
        HELP.forEach(line -> buf.writeByte('+').writeBytes(line.getBytes(US_ASCII)).writeBytes(CRLF));
      }
      default -> {
        buf.release();
        return Resp.error(alloc, "ERR unknown subcommand '" + Resp.quote(args.get(1), 64) + "'. Try COMMAND HELP.");
      }
    }
    return buf;
  }

  private static final byte[] CRLF = {'\r', '\n'};

  private static ByteBuf arity(ByteBuf buf, String sub) {
    buf.clear();
    buf.writeCharSequence("-ERR wrong number of arguments for 'command|" + sub + "' command\r\n", US_ASCII);
    return buf;
  }

  private static void write(ByteBuf buf, Entry e) {
    header(buf, '*', 7);
    bulk(buf, e.name());
    header(buf, ':', e.arity());
    header(buf, '*', e.flags().size());
    e.flags().forEach(f -> buf.writeByte('+').writeBytes(f.getBytes(US_ASCII)).writeBytes(CRLF));
    header(buf, ':', e.firstKey());
    header(buf, ':', e.lastKey());
    header(buf, ':', e.step());
    header(buf, '*', e.categories().size());
    e.categories().forEach(c -> buf.writeByte('+').writeBytes(c.getBytes(US_ASCII)).writeBytes(CRLF));
  }

  private static void header(ByteBuf buf, char type, long n) {
    buf.writeByte(type).writeCharSequence(Long.toString(n), US_ASCII);
    buf.writeBytes(CRLF);
  }

  private static void bulk(ByteBuf buf, String s) {
    byte[] b = s.getBytes(US_ASCII);
    header(buf, '$', b.length);
    buf.writeBytes(b).writeBytes(CRLF);
  }
}
