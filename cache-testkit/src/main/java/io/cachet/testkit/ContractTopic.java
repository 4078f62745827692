package io.cachet.testkit;

/**
 * A topic of the backend contract: a test interface whose default {@code @Test} methods run in an
 * {@link AbstractCacheContractTest}, the only class that implements it. Being in the same package,
 * the topics use that class's protected members (its cache factory, clock, manager and executor),
 * so a backend's overrides of them apply to every case.
 */
interface ContractTopic {

  /** Returns the running contract test. */
  AbstractCacheContractTest contract();
}
