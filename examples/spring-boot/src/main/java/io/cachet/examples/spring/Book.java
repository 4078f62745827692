package io.cachet.examples.spring;

/** A book, cached in Redis as JSON. */
public record Book(String id, String title, long loadedAtMillis) {}
