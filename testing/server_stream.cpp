// gauth test kit: the byte stream of one accepted connection, plain TCP or TLS.
#include "server_stream.hpp"

#include <openssl/err.h>

#include <cerrno>
#include <climits>
#include <new>

#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

namespace gauth::test::detail {

namespace {

int clamp_to_int(std::size_t size) noexcept { return size > INT_MAX ? INT_MAX : int(size); }

}  // namespace

ServerStream::ServerStream(UniqueFd socket, SSL_CTX* tls) : socket_(std::move(socket)) {
  if (tls == nullptr) return;
  ssl_.reset(SSL_new(tls));
  if (!ssl_ || SSL_set_fd(ssl_.get(), socket_.get()) != 1) {
    ERR_clear_error();
    throw std::bad_alloc();
  }
  SSL_set_accept_state(ssl_.get());
}

IoStatus ServerStream::classify_tls_result(int result) {
  wants_write_ = false;
  switch (SSL_get_error(ssl_.get(), result)) {
    case SSL_ERROR_WANT_READ: return IoStatus::kWouldBlock;
    case SSL_ERROR_WANT_WRITE: wants_write_ = true; return IoStatus::kWouldBlock;
    case SSL_ERROR_ZERO_RETURN:  // close_notify, or plain EOF (SSL_OP_IGNORE_UNEXPECTED_EOF)
      return IoStatus::kEnded;
    default:
      // The error queue is per thread; leave it empty for the next connection.
      ERR_clear_error();
      return IoStatus::kFailed;
  }
}

IoStatus ServerStream::handshake() {
  if (!ssl_) return IoStatus::kDone;
  ERR_clear_error();
  int result = SSL_do_handshake(ssl_.get());
  if (result == 1) {
    wants_write_ = false;
    return IoStatus::kDone;
  }
  IoStatus status = classify_tls_result(result);
  // A client that leaves during the handshake has broken it.
  return status == IoStatus::kEnded ? IoStatus::kFailed : status;
}

IoResult ServerStream::read(char* buffer, std::size_t size) {
  if (ssl_) {
    ERR_clear_error();
    int n = SSL_read(ssl_.get(), buffer, clamp_to_int(size));
    if (n > 0) {
      wants_write_ = false;
      return {IoStatus::kDone, std::size_t(n)};
    }
    return {classify_tls_result(n)};
  }
  for (;;) {
    ssize_t n = ::recv(socket_.get(), buffer, size, 0);
    if (n > 0) return {IoStatus::kDone, std::size_t(n)};
    if (n == 0) return {IoStatus::kEnded};
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return {IoStatus::kWouldBlock};
    return {IoStatus::kFailed};
  }
}

IoResult ServerStream::write(const char* data, std::size_t size) {
  if (ssl_) {
    ERR_clear_error();
    int n = SSL_write(ssl_.get(), data, clamp_to_int(size));
    if (n > 0) {
      wants_write_ = false;
      return {IoStatus::kDone, std::size_t(n)};
    }
    IoStatus status = classify_tls_result(n);
    return {status == IoStatus::kEnded ? IoStatus::kFailed : status};
  }
  for (;;) {
    // MSG_NOSIGNAL: a client that went away is an EPIPE here, not a SIGPIPE for the process.
    ssize_t n = ::send(socket_.get(), data, size, MSG_NOSIGNAL);
    if (n >= 0) return {IoStatus::kDone, std::size_t(n)};
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return {IoStatus::kWouldBlock};
    return {IoStatus::kFailed};
  }
}

std::size_t ServerStream::unsent_bytes() const noexcept {
  int queued = 0;
  if (::ioctl(socket_.get(), SIOCOUTQ, &queued) != 0 || queued < 0) return 0;
  return std::size_t(queued);
}

bool ServerStream::has_buffered_input() const noexcept { return ssl_ && SSL_pending(ssl_.get()) > 0; }

void ServerStream::close_gracefully() noexcept {
  if (ssl_) {
    // One attempt: if the socket buffer is full the client is not reading
    // anyway, and a test server must never wait on a client to close.
    ERR_clear_error();
    SSL_shutdown(ssl_.get());
    ERR_clear_error();
    ssl_.reset();
  }
  // Unread input at close() makes Linux send RST instead of FIN, so drain
  // whatever the client sent after its last request first.
  char discard[4096];
  for (int i = 0; i < 64 && ::recv(socket_.get(), discard, sizeof discard, MSG_DONTWAIT) > 0; ++i) {
  }
  socket_.reset();
}

void ServerStream::reset() noexcept {
  ssl_.reset();
  linger abortive{};
  abortive.l_onoff = 1;
  abortive.l_linger = 0;
  ::setsockopt(socket_.get(), SOL_SOCKET, SO_LINGER, &abortive, sizeof abortive);
  socket_.reset();
}

void ServerStream::close_now() noexcept {
  ssl_.reset();
  socket_.reset();
}

}  // namespace gauth::test::detail
