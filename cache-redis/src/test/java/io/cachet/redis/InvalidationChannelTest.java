package io.cachet.redis;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

final class InvalidationChannelTest {

  @Test
  void meansUnsupported_onlyWhenTheServerCannotOrMayNotTrack() {
    // Redis < 6, RESP3 refused, tracking unknown, or forbidden by an ACL: fall back to expiry.
    assertThat(InvalidationChannel.meansUnsupported("ERR unknown command `HELLO`, with args beginning with: `3`,")).isTrue();
    assertThat(InvalidationChannel.meansUnsupported("ERR unknown command 'HELLO'")).isTrue();
    assertThat(InvalidationChannel.meansUnsupported("NOPROTO unsupported protocol version")).isTrue();
    assertThat(InvalidationChannel.meansUnsupported("ERR Unknown subcommand or wrong number of arguments for 'TRACKING'. Try CLIENT HELP")).isTrue();
    assertThat(InvalidationChannel.meansUnsupported("ERR unknown subcommand 'TRACKING'. Try CLIENT HELP.")).isTrue();
    assertThat(InvalidationChannel.meansUnsupported("NOPERM this user has no permissions to run the 'client' command or its subcommand")).isTrue();
    // Passing conditions and credentials: retried, with the near cache out of use meanwhile.
    assertThat(InvalidationChannel.meansUnsupported("ERR max number of clients reached")).isFalse();
    assertThat(InvalidationChannel.meansUnsupported("BUSY Redis is busy running a script.")).isFalse();
    assertThat(InvalidationChannel.meansUnsupported("LOADING Redis is loading the dataset in memory")).isFalse();
    assertThat(InvalidationChannel.meansUnsupported("WRONGPASS invalid username-password pair or user is disabled.")).isFalse();
    assertThat(InvalidationChannel.meansUnsupported("NOAUTH HELLO must be called with the client already authenticated")).isFalse();
  }
}
