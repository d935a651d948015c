// gauth test kit: a loopback HTTP/1.1 and HTTPS server with scripted answers and
// fault injection, run inside the test process on 127.0.0.1 (ephemeral port).
//
// Why hand-written and not cpp-httplib: httplib serves each connection on a
// pool thread that blocks on idle keep-alive connections, so 1,000 concurrent
// keep-alive clients stall it, and it cannot reset a connection mid-body or
// stall in the middle of the headers. This server is one epoll thread over
// non-blocking sockets (OpenSSL for TLS), so every fault is exact.
#ifndef GAUTH_TEST_SUPPORT_TEST_SERVER_HPP
#define GAUTH_TEST_SUPPORT_TEST_SERVER_HPP

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace gauth::test {

/// One request as the server received it.
struct RecordedRequest {
  std::string method;
  std::string target;                                        // path and query, as on the request line
  std::vector<std::pair<std::string, std::string>> headers;  // in order, as received
  std::string body;
  std::size_t connection_id = 0;  // which accepted connection carried it (1, 2, ...)

  /// The value of the first header named `name` (case-insensitive), or "".
  std::string header(const std::string& name) const;
  /// Number of headers named `name` (case-insensitive).
  std::size_t header_count(const std::string& name) const;
};

/// What the server does with one request. `delay` applies before any fault.
struct Reply {
  enum class Fault {
    kNone,                  // send the response normally
    kStall,                 // read the request, send nothing, hold the connection open
    kStallAfterHeaders,     // send status line and headers (with Content-Length), then nothing
    kSlowDrip,              // send the whole response one byte every `drip_interval`
    kTruncate,              // announce Content-Length of body.size(), send `bytes` of it, close
    kReset,                 // send `bytes` bytes of the response, then reset (RST) the connection
    kEndlessBody,           // chunked body that never ends (until the client goes away)
    kCloseWithoutResponse,  // read the request, close the connection cleanly
    kGarbage,               // send `body` as raw bytes (not HTTP), then close
  };

  int status = 200;
  // Content-Length is added (Transfer-Encoding for kEndlessBody) unless the
  // headers already have a Content-Length or Transfer-Encoding of their own;
  // "Connection: close" is added when the connection closes after the reply.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds delay{0};  // wait this long before answering
  Fault fault = Fault::kNone;
  std::size_t bytes = 0;  // for kTruncate and kReset
  std::chrono::milliseconds drip_interval{10};
  bool close_after = false;  // send "Connection: close" and close after the response

  static Reply json(int status, std::string body);
  static Reply text(int status, std::string body);
  static Reply redirect(int status, std::string location);
  /// A 200 whose body is `size` bytes of 'x' (Content-Length known).
  static Reply huge(std::size_t size);
  /// A 200 with `fault` and defaults that make it observable: kStallAfterHeaders
  /// a 64-byte body; kSlowDrip body "drip"; kTruncate a 1024-byte body of which
  /// 512 bytes are sent; kGarbage "this is not HTTP\r\n\r\n"; kReset bytes = 0
  /// (the reset comes first).
  static Reply with_fault(Fault fault);
};

/// A loopback server. Starts listening in the constructor; stops, releases
/// every stalled connection and joins its thread in the destructor.
///
/// \context Every member function is thread-safe. The handler runs on the
/// server thread, outside the server's lock (so it may call the server), and
/// an exception it throws becomes a 500 reply. Requests are answered one at a
/// time per connection, in order (pipelined requests wait their turn); a
/// malformed request gets a 400, is not recorded, and closes its connection.
class TestServer {
 public:
  enum class Tls { kOff, kOn };

  /// Throws std::system_error when the socket cannot be set up and
  /// std::runtime_error when the TLS fixtures cannot be loaded.
  explicit TestServer(Tls tls = Tls::kOff);
  ~TestServer();
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  int port() const;
  /// "http://127.0.0.1:<port><path>" or "https://localhost:<port><path>"
  /// (the TLS certificate is issued for localhost and 127.0.0.1).
  std::string url(const std::string& path = "/") const;

  /// Answers for the next requests, in order; when the queue is empty the
  /// default reply (200, empty body) or the handler is used.
  void enqueue(Reply reply);
  void set_default(Reply reply);
  /// Computes the answer of every request (overrides queue and default).
  void set_handler(std::function<Reply(const RecordedRequest&)> handler);

  std::vector<RecordedRequest> requests() const;
  std::size_t request_count() const;
  std::size_t connection_count() const;       // connections accepted so far
  std::size_t open_connection_count() const;  // connections currently open
  /// Waits until at least `n` requests arrived; false on timeout.
  bool wait_for_requests(std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

  /// PEM file of the CA that signed the server certificate (for CurlDriverOptions::ca_bundle).
  static std::string ca_bundle_path();
  /// PEM file of a CA that did NOT sign it (for "TLS refused" tests).
  static std::string other_ca_bundle_path();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gauth::test

#endif  // GAUTH_TEST_SUPPORT_TEST_SERVER_HPP
