package io.cachet.testkit.redis;

/**
 * An error reply ({@code -ERR ...}, {@code -WRONGTYPE ...}, RESP3 blob errors) from the server.
 *
 * <p>Its message is the error text without the leading {@code -}, e.g.
 * {@code "ERR unknown command 'FOO'"}.
 */
public final class RespErrorException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception for an error reply.
     *
     * @param message the error text as the server sent it, without the leading {@code -}
     */
    public RespErrorException(String message) {
        super(message);
    }
}
