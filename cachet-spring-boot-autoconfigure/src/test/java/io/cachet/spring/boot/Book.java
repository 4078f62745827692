package io.cachet.spring.boot;

/** A value the test applications cache. */
public record Book(String id, String title) {}
