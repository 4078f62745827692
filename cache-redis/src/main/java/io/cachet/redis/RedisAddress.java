package io.cachet.redis;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * Where Redis is, parsed from one address string; see {@link RedisOptions.Builder#address(String)}
 * for the forms. The credentials of an address never appear in {@link #toString()}.
 *
 * @param topology the kind of deployment
 * @param tls whether connections use TLS
 * @param nodes {@code host:port} of the server, the Sentinels, or the Cluster seeds
 * @param masterName the Sentinel master name; null for the other topologies
 * @param database the database in the address's path; null when it names none
 * @param username the user name in the address; null when it names none
 * @param password the password in the address; null when it names none
 */
record RedisAddress(
    Topology topology,
    boolean tls,
    List<String> nodes,
    @Nullable String masterName,
    @Nullable Integer database,
    @Nullable String username,
    @Nullable String password) {

  /** The kinds of Redis deployment. */
  enum Topology {
    STANDALONE("redis", "rediss"),
    SENTINEL("redis-sentinel", "rediss-sentinel"),
    CLUSTER("redis-cluster", "rediss-cluster");

    final String scheme;
    final String tlsScheme;

    Topology(String scheme, String tlsScheme) {
      this.scheme = scheme;
      this.tlsScheme = tlsScheme;
    }
  }

  private static final String FORMS =
      "host:port, redis[s]://[user:password@]host:port[/db], "
          + "redis[s]-sentinel://[user:password@]host:port,host:port[/db]#master or "
          + "redis[s]-cluster://[user:password@]host:port,host:port";

  RedisAddress {
    nodes = List.copyOf(nodes);
  }

  /**
   * Parses {@code text}.
   *
   * @throws IllegalArgumentException naming the address and what is wrong with it
   */
  static RedisAddress parse(String text) {
    String trimmed = text.trim();
    int schemeEnd = trimmed.indexOf("://");
    if (schemeEnd < 0) {
      return standalone(trimmed, text, false, null, null, null, null);
    }
    String scheme = trimmed.substring(0, schemeEnd).toLowerCase(Locale.ROOT);
    String rest = trimmed.substring(schemeEnd + 3);
    // The user info first, up to the last '@' (for Sentinel, the last before its '#master', which
    // may hold an '@'): a password with an unencoded '#' or '/' must not be taken for the master
    // name or the database (and then printed in messages and logs).
    String username = null;
    String password = null;
    int at = userInfoEnd(scheme, rest);
    String userInfo = at >= 0 ? rest.substring(0, at) : null;
    rest = rest.substring(at + 1);
    String fragment = null;
    int hash = rest.indexOf('#');
    if (hash >= 0) {
      fragment = rest.substring(hash + 1);
      rest = rest.substring(0, hash);
    }
    String path = null;
    int slash = rest.indexOf('/');
    if (slash >= 0) {
      path = rest.substring(slash + 1);
      rest = rest.substring(0, slash);
    }
    if (userInfo != null) {
      int colon = userInfo.indexOf(':');
      String user = colon >= 0 ? userInfo.substring(0, colon) : "";
      username = user.isEmpty() ? null : decode(user, text);
      password = colon >= 0 ? decode(userInfo.substring(colon + 1), text) : null;
      if (colon < 0) {
        // redis://secret@host:port, as many clients read it: a password alone.
        password = decode(userInfo, text);
        username = null;
      }
    }
    Integer database = path == null || path.isEmpty() ? null : parseDatabase(path, text);
    for (Topology topology : Topology.values()) {
      if (!scheme.equals(topology.scheme) && !scheme.equals(topology.tlsScheme)) {
        continue;
      }
      boolean tls = scheme.equals(topology.tlsScheme);
      switch (topology) {
        case STANDALONE -> {
          if (fragment != null) {
            throw invalid(text, "a standalone address takes no #fragment");
          }
          return standalone(rest, text, tls, database, username, password, scheme);
        }
        case SENTINEL -> {
          if (fragment == null || fragment.isBlank()) {
            throw invalid(text, "a Sentinel address must end with #<master name>");
          }
          return new RedisAddress(topology, tls, hostPorts(rest, text), fragment, database, username, password);
        }
        case CLUSTER -> {
          if (fragment != null) {
            throw invalid(text, "a Cluster address takes no #fragment");
          }
          if (database != null && database != 0) {
            throw invalid(text, "Redis Cluster has only database 0");
          }
          return new RedisAddress(topology, tls, hostPorts(rest, text), null, null, username, password);
        }
        default -> throw new AssertionError(topology);
      }
    }
    throw invalid(text, "unknown scheme '" + scheme + "'");
  }

  /**
   * The index of the '@' ending the user info in {@code rest} (what follows {@code scheme://}), or
   * -1: the last '@', or for Sentinel the last before its '#master' (a master name may hold one).
   */
  private static int userInfoEnd(String scheme, String rest) {
    boolean sentinel = scheme.equals(Topology.SENTINEL.scheme) || scheme.equals(Topology.SENTINEL.tlsScheme);
    int lastHash = rest.lastIndexOf('#');
    return sentinel && lastHash >= 0 ? rest.lastIndexOf('@', lastHash) : rest.lastIndexOf('@');
  }

  private static RedisAddress standalone(
      String hostPort,
      String text,
      boolean tls,
      @Nullable Integer database,
      @Nullable String username,
      @Nullable String password,
      @Nullable String scheme) {
    if (hostPort.contains(",")) {
      throw invalid(text, "a standalone address names one server; use redis-sentinel:// or redis-cluster:// for several");
    }
    String node = hostPort(hostPort);
    if (node == null) {
      // The message existing callers (and users) know for the common mistake of a missing port.
      throw new IllegalArgumentException("address must be host:port or redis://host:port, was '" + mask(text) + "'");
    }
    return new RedisAddress(Topology.STANDALONE, tls, List.of(node), null, database, username, password);
  }

  private static List<String> hostPorts(String list, String text) {
    List<String> nodes = new ArrayList<>();
    for (String part : list.split(",", -1)) {
      String node = hostPort(part.trim());
      if (node == null) {
        // Not echoed when the address has user info: a part may be a password the parser could
        // not tell from the nodes.
        throw invalid(text, (text.indexOf('@') >= 0 ? "a node" : "'" + part.trim() + "'") + " is not host:port");
      }
      nodes.add(node);
    }
    return nodes;
  }

  /** Returns {@code host:port} normalized, or null when {@code text} is not one. */
  private static @Nullable String hostPort(String text) {
    int colon = text.lastIndexOf(':');
    if (colon <= 0 || colon == text.length() - 1) {
      return null;
    }
    String host = text.substring(0, colon);
    if (host.startsWith("[") != host.endsWith("]") || host.contains(":") && !host.startsWith("[")) {
      return null; // IPv6 literals go in brackets
    }
    for (char c : host.toCharArray()) {
      if (Character.isWhitespace(c) || c == '/' || c == '@' || c == '#' || c == '?') {
        return null;
      }
    }
    int port;
    try {
      port = Integer.parseInt(text.substring(colon + 1));
    } catch (NumberFormatException e) {
      return null;
    }
    if (port <= 0 || port > 65_535) {
      return null;
    }
    return host.toLowerCase(Locale.ROOT) + ":" + port;
  }

  private static int parseDatabase(String path, String text) {
    try {
      int db = Integer.parseInt(path);
      if (db >= 0) {
        return db;
      }
    } catch (NumberFormatException e) {
      // falls through to the error
    }
    throw invalid(text, "the path must be a database number >= 0, was '/" + path + "'");
  }

  private static String decode(String part, String text) {
    try {
      return URLDecoder.decode(part.replace("+", "%2B"), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw invalid(text, "bad percent-encoding in its credentials");
    }
  }

  private static IllegalArgumentException invalid(String text, String why) {
    return new IllegalArgumentException("address must be " + FORMS + "; " + why + ", was '" + mask(text) + "'");
  }

  /** {@code text} with the password of its user info replaced by {@code ****}. */
  static String mask(String text) {
    int schemeEnd = text.indexOf("://");
    int start = schemeEnd < 0 ? 0 : schemeEnd + 3; // user info without a scheme is masked too
    // Up to the last '@' of all, whatever the parser made of it: a master name holding an '@' is
    // masked too, rather than a password holding a '#' shown.
    int at = text.lastIndexOf('@');
    if (at < start) {
      return text;
    }
    String userInfo = text.substring(start, at);
    int colon = userInfo.indexOf(':');
    String masked = colon >= 0 ? userInfo.substring(0, colon) + ":****" : "****";
    return text.substring(0, start) + masked + text.substring(at);
  }

  /** This address without user name and password: what a builder copying options keeps of it. */
  RedisAddress withoutCredentials() {
    return new RedisAddress(topology, tls, nodes, masterName, database, null, null);
  }

  /** This address without its database. */
  RedisAddress withoutDatabase() {
    return new RedisAddress(topology, tls, nodes, masterName, null, username, password);
  }

  /** The URI Redisson takes for {@code node}: {@code redis://host:port} or {@code rediss://host:port}. */
  String uri(String node) {
    return (tls ? "rediss://" : "redis://") + node;
  }

  /** The normalized address, without credentials. */
  @Override
  public String toString() {
    String scheme = tls ? topology.tlsScheme : topology.scheme;
    StringBuilder text = new StringBuilder(scheme).append("://").append(String.join(",", nodes));
    if (database != null) {
      text.append('/').append(database);
    }
    if (masterName != null) {
      text.append('#').append(masterName);
    }
    return text.toString();
  }
}
