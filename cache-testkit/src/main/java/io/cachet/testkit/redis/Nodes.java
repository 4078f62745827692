package io.cachet.testkit.redis;

import java.util.List;

/** What the multi-process setups do alike with their nodes. */
final class Nodes {
    private Nodes() {}

    /** The node's role as {@code ROLE} reports it: {@code master}, {@code slave} or {@code sentinel}. */
    static String role(RedisServer node) {
        List<?> role = (List<?>) node.command("ROLE");
        return role == null || role.isEmpty() ? "" : String.valueOf(role.get(0));
    }

    /** Closes every node, even when some fail; rethrows the first failure with the others suppressed. */
    static void closeAll(List<RedisServer> nodes) {
        RuntimeException failure = null;
        for (RedisServer node : nodes) {
            try {
                node.close();
            } catch (RuntimeException e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }
}
