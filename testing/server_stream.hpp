// gauth test kit: the byte stream of one accepted connection, plain TCP or TLS.
#ifndef GAUTH_TEST_SUPPORT_SERVER_STREAM_HPP
#define GAUTH_TEST_SUPPORT_SERVER_STREAM_HPP

#include "unique_fd.hpp"

#include <openssl/ssl.h>

#include <cstddef>
#include <memory>

namespace gauth::test::detail {

enum class IoStatus {
  kDone,        // progress was made
  kWouldBlock,  // retry when the socket is ready again (see wants_write())
  kEnded,       // reads only: the client finished sending (FIN or close_notify)
  kFailed,      // the connection is broken (reset, TLS error)
};

struct IoResult {
  IoStatus status;
  std::size_t bytes = 0;  // kDone only
};

/// A non-blocking stream over an accepted socket. With TLS it owns the SSL
/// object, accepts the handshake and hides WANT_READ/WANT_WRITE behind
/// kWouldBlock plus wants_write(). Loop thread only. Every way of closing is
/// explicit, because the faults differ exactly in how a connection ends.
class ServerStream {
 public:
  /// Takes a non-blocking socket; `tls` null means plain TCP. Throws
  /// std::bad_alloc when OpenSSL cannot create the connection object.
  ServerStream(UniqueFd socket, SSL_CTX* tls);

  bool is_tls() const noexcept { return ssl_ != nullptr; }
  int fd() const noexcept { return socket_.get(); }

  /// Advances the TLS handshake; kDone once it is complete (at once for TCP).
  IoStatus handshake();
  IoResult read(char* buffer, std::size_t size);
  IoResult write(const char* data, std::size_t size);

  /// True when the last TLS operation needs the socket to become writable
  /// (besides any output of our own that is pending).
  bool wants_write() const noexcept { return wants_write_; }
  /// Bytes the kernel has not yet delivered to (and had acknowledged by) the client.
  std::size_t unsent_bytes() const noexcept;
  /// True when TLS holds decrypted bytes that read() would return without
  /// touching the socket, so socket readiness cannot announce them.
  bool has_buffered_input() const noexcept;

  /// Ends cleanly: close_notify (TLS, best effort), then FIN after the data
  /// already written.
  void close_gracefully() noexcept;
  /// Ends with a TCP reset (SO_LINGER 0); data not yet sent is dropped.
  void reset() noexcept;
  /// Releases the socket without any goodbye (the client is already gone).
  void close_now() noexcept;

 private:
  IoStatus classify_tls_result(int result);

  UniqueFd socket_;
  struct SslFree {
    void operator()(SSL* ssl) const noexcept { SSL_free(ssl); }
  };
  // Declared after the socket, so destroyed before it: SSL_free may not touch a closed fd.
  std::unique_ptr<SSL, SslFree> ssl_;
  bool wants_write_ = false;
};

}  // namespace gauth::test::detail

#endif  // GAUTH_TEST_SUPPORT_SERVER_STREAM_HPP
