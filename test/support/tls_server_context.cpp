// gauth test kit: the server side TLS configuration (certificate, key, protocol options).
#include "tls_server_context.hpp"

#include <openssl/err.h>

#include <stdexcept>

namespace gauth::test::detail {

namespace {

[[noreturn]] void fail(const std::string& what) {
  unsigned long error = ERR_get_error();
  char reason[256] = "unknown OpenSSL error";
  if (error != 0) ERR_error_string_n(error, reason, sizeof reason);
  ERR_clear_error();
  throw std::runtime_error("TestServer TLS setup: " + what + ": " + reason);
}

}  // namespace

TlsServerContext::TlsServerContext(const std::string& certificate_chain_file,
                                   const std::string& private_key_file)
    : context_(SSL_CTX_new(TLS_server_method())) {
  if (!context_) fail("SSL_CTX_new");
  SSL_CTX* context = context_.get();
  SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
  // Partial writes and moving buffers: a connection hands SSL_write whatever
  // is left of a std::string that may grow (slow drip, endless body) between
  // a WANT_WRITE and the retry. Released buffers keep thousands of idle
  // keep-alive connections cheap.
  SSL_CTX_set_mode(context, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                                SSL_MODE_RELEASE_BUFFERS);
  // A client that closes without close_notify has simply gone away (curl
  // does this when it aborts a transfer); treat it as end of stream.
  SSL_CTX_set_options(context, SSL_OP_IGNORE_UNEXPECTED_EOF);
  if (SSL_CTX_use_certificate_chain_file(context, certificate_chain_file.c_str()) != 1) {
    fail("cannot load certificate " + certificate_chain_file);
  }
  if (SSL_CTX_use_PrivateKey_file(context, private_key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    fail("cannot load private key " + private_key_file);
  }
  if (SSL_CTX_check_private_key(context) != 1) fail("key does not match certificate");
}

}  // namespace gauth::test::detail
