// gauth test kit: one client connection: reads its requests and plays the
// scripted replies, faults included.
#ifndef GAUTH_TEST_SUPPORT_SERVER_CONNECTION_HPP
#define GAUTH_TEST_SUPPORT_SERVER_CONNECTION_HPP

#include "server_stream.hpp"
#include "test_server.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace gauth::test::detail {

/// Where a connection takes the answer to each request it reads.
class ReplySource {
 public:
  /// Records `request` and returns how to answer it. Called on the loop
  /// thread, once per complete request, in arrival order per connection.
  virtual Reply reply_for(const RecordedRequest& request) = 0;

 protected:
  ~ReplySource() = default;
};

/// The state machine of one accepted connection. It never blocks and never
/// sleeps: the owner (the server loop) calls on_events() when the socket is
/// ready for wanted_events(), on_deadline() once deadline() has passed, and
/// destroys it once closed(). Loop thread only.
class ServerConnection {
 public:
  using Clock = std::chrono::steady_clock;

  ServerConnection(std::size_t id, ServerStream stream, ReplySource& replies);

  /// `epoll_events` is what epoll reported for the socket.
  void on_events(std::uint32_t epoll_events);
  /// Acts on the deadline if it has passed by `now`; otherwise does nothing.
  void on_deadline(Clock::time_point now);

  /// The epoll events (EPOLLIN/EPOLLOUT) the connection waits for.
  std::uint32_t wanted_events() const noexcept;
  /// When the connection next needs on_deadline() (a reply delay, the next
  /// drip, a reset waiting for sent data), if ever.
  std::optional<Clock::time_point> deadline() const noexcept { return deadline_; }
  bool closed() const noexcept { return phase_ == Phase::kClosed; }
  int fd() const noexcept { return stream_.fd(); }

 private:
  enum class Phase {
    kHandshaking,  // TLS handshake in progress
    kReading,      // waiting for (the rest of) a request
    kDelaying,     // request read; answering at deadline_ (Reply::delay)
    kSending,      // writing out_, then doing `after_sending_`
    kDripping,     // feeding drip_ into out_ one byte per deadline
    kStreaming,    // writing chunks of an endless body
    kHolding,      // sending nothing more; closing when the client does
    kAwaitingAck,  // before a reset: waiting for written data to leave the kernel
    kClosed,
  };
  // What happens to the connection once the response is fully written.
  enum class AfterSending { kKeepAlive, kClose, kHold, kReset };

  void receive();
  void advance();
  void serve_buffered_requests();
  void start_reply();
  void begin_sending(AfterSending after);
  void flush();
  void finish_sending();
  void drip_next_byte(Clock::time_point now);
  void reset_once_sent(Clock::time_point now);
  void close_gracefully();
  void reset();
  void close_now();

  const std::size_t id_;
  ServerStream stream_;
  ReplySource& replies_;
  Phase phase_;
  std::optional<Clock::time_point> deadline_;

  std::string in_;                // received bytes not yet consumed by a request
  bool client_finished_ = false;  // the client sent FIN / close_notify
  bool continue_sent_ = false;    // "100 Continue" already sent for the current request

  Reply reply_;                     // the answer to the current request
  bool head_only_ = false;          // the current request is HEAD
  bool client_keeps_alive_ = true;  // the current request allows another one after it
  AfterSending after_sending_ = AfterSending::kKeepAlive;

  std::string out_;  // bytes to write, from out_sent_ on
  std::size_t out_sent_ = 0;
  std::string drip_;  // kSlowDrip: the whole response, fed from drip_fed_ on
  std::size_t drip_fed_ = 0;
  Clock::time_point give_up_waiting_for_ack_;
};

}  // namespace gauth::test::detail

#endif  // GAUTH_TEST_SUPPORT_SERVER_CONNECTION_HPP
