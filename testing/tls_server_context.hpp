// gauth test kit: the server side TLS configuration (certificate, key, protocol options).
#ifndef GAUTH_TEST_SUPPORT_TLS_SERVER_CONTEXT_HPP
#define GAUTH_TEST_SUPPORT_TLS_SERVER_CONTEXT_HPP

#include <openssl/ssl.h>

#include <memory>
#include <string>

namespace gauth::test::detail {

/// An SSL_CTX serving one certificate chain, set up for non-blocking sockets
/// (partial writes, moving write buffers). Immutable after construction, so
/// it may be created on one thread and used by the loop thread.
class TlsServerContext {
 public:
  /// Loads a PEM certificate chain (the server's certificate first) and its
  /// private key from memory; throws std::runtime_error with OpenSSL's
  /// reason on failure.
  TlsServerContext(const std::string& certificate_chain_pem, const std::string& private_key_pem);

  SSL_CTX* get() const noexcept { return context_.get(); }

 private:
  struct Free {
    void operator()(SSL_CTX* context) const noexcept { SSL_CTX_free(context); }
  };
  std::unique_ptr<SSL_CTX, Free> context_;
};

}  // namespace gauth::test::detail

#endif  // GAUTH_TEST_SUPPORT_TLS_SERVER_CONTEXT_HPP
