// gauth test kit: the server side TLS configuration (certificate, key, protocol options).
#include "tls_server_context.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>

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

TlsServerContext::TlsServerContext(const std::string& certificate_chain_pem,
                                   const std::string& private_key_pem)
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
  struct FreeBio {
    void operator()(BIO* bio) const noexcept { BIO_free(bio); }
  };
  std::unique_ptr<BIO, FreeBio> certificates(
      BIO_new_mem_buf(certificate_chain_pem.data(), int(certificate_chain_pem.size())));
  X509* leaf = PEM_read_bio_X509(certificates.get(), nullptr, nullptr, nullptr);
  if (leaf == nullptr) fail("cannot read the server certificate");
  int used = SSL_CTX_use_certificate(context, leaf);
  X509_free(leaf);
  if (used != 1) fail("cannot use the server certificate");
  // Any further certificates are the chain (SSL_CTX takes ownership).
  while (X509* extra = PEM_read_bio_X509(certificates.get(), nullptr, nullptr, nullptr)) {
    if (SSL_CTX_add_extra_chain_cert(context, extra) != 1) {
      X509_free(extra);
      fail("cannot add a chain certificate");
    }
  }
  ERR_clear_error();  // the end of the PEM stream reads as an error
  std::unique_ptr<BIO, FreeBio> key(BIO_new_mem_buf(private_key_pem.data(), int(private_key_pem.size())));
  EVP_PKEY* pkey = PEM_read_bio_PrivateKey(key.get(), nullptr, nullptr, nullptr);
  if (pkey == nullptr) fail("cannot read the private key");
  used = SSL_CTX_use_PrivateKey(context, pkey);
  EVP_PKEY_free(pkey);
  if (used != 1) fail("cannot use the private key");
  if (SSL_CTX_check_private_key(context) != 1) fail("key does not match certificate");
}

}  // namespace gauth::test::detail
