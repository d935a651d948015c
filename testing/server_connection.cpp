// gauth test kit: one client connection: reads its requests and plays the
// scripted replies, faults included.
#include "server_connection.hpp"

#include "http_request_parser.hpp"
#include "reply_wire.hpp"

#include <algorithm>

#include <sys/epoll.h>

namespace gauth::test::detail {

namespace {

using namespace std::chrono_literals;

// Per readiness event, so that one client streaming at loopback speed cannot
// starve the others (level-triggered epoll brings us back for the rest).
constexpr std::size_t kReadBudget = 1024 * 1024;
constexpr int kEndlessChunksPerEvent = 4;
constexpr std::size_t kEndlessChunkSize = 16 * 1024;
// How long a reset waits for the bytes before it to reach the client, and how often it looks.
constexpr auto kAckPatience = 1s;
constexpr auto kAckPollInterval = 1ms;

const std::string& endless_chunk() {
  static const std::string chunk = encode_chunk(std::string(kEndlessChunkSize, 'x'));
  return chunk;
}

}  // namespace

ServerConnection::ServerConnection(std::size_t id, ServerStream stream, ReplySource& replies)
    : id_(id),
      stream_(std::move(stream)),
      replies_(replies),
      phase_(stream_.is_tls() ? Phase::kHandshaking : Phase::kReading) {}

void ServerConnection::on_events(std::uint32_t epoll_events) {
  if (phase_ == Phase::kClosed) return;
  // An error or hang-up means the client reset or vanished: nothing can be
  // delivered any more (even the tail of a reply), so just let go.
  if (epoll_events & (EPOLLERR | EPOLLHUP)) {
    close_now();
    return;
  }
  if (phase_ == Phase::kHandshaking) {
    switch (stream_.handshake()) {
      case IoStatus::kDone:
        phase_ = Phase::kReading;
        break;  // the request may have come in the same flight: read now
      case IoStatus::kWouldBlock: return;
      case IoStatus::kEnded:
      case IoStatus::kFailed: close_now(); return;
    }
  }
  receive();
  advance();
}

void ServerConnection::on_deadline(Clock::time_point now) {
  if (!deadline_ || now < *deadline_) return;
  deadline_.reset();
  switch (phase_) {
    case Phase::kDelaying: start_reply(); break;
    case Phase::kDripping: drip_next_byte(now); break;
    case Phase::kAwaitingAck: reset_once_sent(now); break;
    default: break;
  }
  advance();
}

std::uint32_t ServerConnection::wanted_events() const noexcept {
  if (phase_ == Phase::kClosed) return 0;
  std::uint32_t events = 0;
  // Always reading (until the client finishes) is how we notice a client
  // that goes away while we delay, stall or stream.
  if (!client_finished_) events |= EPOLLIN;
  if (out_sent_ < out_.size() || phase_ == Phase::kStreaming || stream_.wants_write()) events |= EPOLLOUT;
  return events;
}

void ServerConnection::receive() {
  char buffer[16 * 1024];
  std::size_t budget = kReadBudget;
  while (!client_finished_ && (budget > 0 || stream_.has_buffered_input())) {
    IoResult result = stream_.read(buffer, sizeof buffer);
    switch (result.status) {
      case IoStatus::kDone:
        // A held connection answers nothing more, so what it sends is dropped.
        if (phase_ != Phase::kHolding) in_.append(buffer, result.bytes);
        budget -= std::min(budget, result.bytes);
        break;
      case IoStatus::kWouldBlock: return;
      case IoStatus::kEnded: client_finished_ = true; return;
      case IoStatus::kFailed: close_now(); return;
    }
  }
}

// Moves the connection as far as it can go without waiting.
void ServerConnection::advance() {
  if (phase_ == Phase::kClosed) return;
  flush();
  if (phase_ == Phase::kReading) serve_buffered_requests();
  if (phase_ == Phase::kClosed || !client_finished_) return;
  switch (phase_) {
    case Phase::kReading:
      close_gracefully();  // no further request can come
      break;
    case Phase::kHolding:
    case Phase::kStreaming:
      close_now();  // "until the client goes away": it has
      break;
    default:
      // A reply in progress still goes out; finish_sending() then closes.
      break;
  }
}

void ServerConnection::serve_buffered_requests() {
  while (phase_ == Phase::kReading) {
    ParsedRequest parsed = parse_request(in_);
    switch (parsed.result) {
      case ParsedRequest::Result::kIncomplete:
        if (parsed.expects_continue && !continue_sent_) {
          continue_sent_ = true;
          out_ += "HTTP/1.1 100 Continue\r\n\r\n";
          flush();
        }
        return;
      case ParsedRequest::Result::kMalformed:
        in_.clear();
        reply_ = Reply::text(400, parsed.error + "\n");
        head_only_ = false;
        client_keeps_alive_ = false;
        start_reply();
        break;
      case ParsedRequest::Result::kComplete:
        in_.erase(0, parsed.size);
        continue_sent_ = false;
        head_only_ = parsed.request.method == "HEAD";
        client_keeps_alive_ = parsed.keep_alive;
        parsed.request.connection_id = id_;
        reply_ = replies_.reply_for(parsed.request);
        if (reply_.delay > 0ms) {
          phase_ = Phase::kDelaying;
          deadline_ = Clock::now() + reply_.delay;
          return;
        }
        start_reply();
        break;
    }
    flush();  // may finish a keep-alive reply at once and bring us back to kReading
  }
}

void ServerConnection::start_reply() {
  using Fault = Reply::Fault;
  const bool closing = reply_.close_after || !client_keeps_alive_;
  const AfterSending after_complete_reply = closing ? AfterSending::kClose : AfterSending::kKeepAlive;
  switch (reply_.fault) {
    case Fault::kNone:
      out_ += encode_response(reply_, closing, head_only_);
      begin_sending(after_complete_reply);
      break;
    case Fault::kStall: phase_ = Phase::kHolding; break;
    case Fault::kStallAfterHeaders:
      out_ += encode_head(reply_, BodyFraming::kContentLength, closing);
      begin_sending(AfterSending::kHold);
      break;
    case Fault::kSlowDrip:
      drip_ = encode_response(reply_, closing, head_only_);
      drip_fed_ = 0;
      after_sending_ = after_complete_reply;
      phase_ = Phase::kDripping;
      drip_next_byte(Clock::now());
      break;
    case Fault::kTruncate:
      out_ += encode_head(reply_, BodyFraming::kContentLength, closing);
      out_.append(reply_.body, 0, std::min(reply_.bytes, reply_.body.size()));
      begin_sending(AfterSending::kClose);
      break;
    case Fault::kReset:
      out_ += encode_response(reply_, closing, head_only_).substr(0, reply_.bytes);
      begin_sending(AfterSending::kReset);
      break;
    case Fault::kEndlessBody:
      out_ += encode_head(reply_, BodyFraming::kChunked, closing);
      phase_ = Phase::kStreaming;
      break;
    case Fault::kCloseWithoutResponse: close_gracefully(); break;
    case Fault::kGarbage:
      out_ += reply_.body;
      begin_sending(AfterSending::kClose);
      break;
  }
}

void ServerConnection::begin_sending(AfterSending after) {
  after_sending_ = after;
  phase_ = Phase::kSending;
}

// Writes out_ until the socket is full; when it is empty, takes the next step
// of the current phase.
void ServerConnection::flush() {
  int refills = 0;
  for (;;) {
    while (out_sent_ < out_.size()) {
      if (phase_ == Phase::kClosed) return;
      IoResult result = stream_.write(out_.data() + out_sent_, out_.size() - out_sent_);
      if (result.status == IoStatus::kWouldBlock) return;  // EPOLLOUT brings us back
      if (result.status != IoStatus::kDone) {
        close_now();
        return;
      }
      out_sent_ += result.bytes;
    }
    out_.clear();
    out_sent_ = 0;
    switch (phase_) {
      case Phase::kSending: finish_sending(); return;
      case Phase::kDripping:
        if (drip_fed_ == drip_.size()) finish_sending();
        return;
      case Phase::kStreaming:
        // Only refilled once the previous chunk left, so a client that stops
        // reading parks us on EPOLLOUT instead of spinning.
        if (++refills > kEndlessChunksPerEvent) return;
        out_ = endless_chunk();
        break;
      default: return;
    }
  }
}

void ServerConnection::finish_sending() {
  switch (after_sending_) {
    case AfterSending::kKeepAlive:
      if (client_finished_) {
        close_gracefully();
      } else {
        phase_ = Phase::kReading;
      }
      break;
    case AfterSending::kClose: close_gracefully(); break;
    case AfterSending::kHold: phase_ = Phase::kHolding; break;
    case AfterSending::kReset: {
      phase_ = Phase::kAwaitingAck;
      Clock::time_point now = Clock::now();
      give_up_waiting_for_ack_ = now + kAckPatience;
      reset_once_sent(now);
      break;
    }
  }
}

void ServerConnection::drip_next_byte(Clock::time_point now) {
  out_ += drip_[drip_fed_++];
  if (drip_fed_ < drip_.size()) deadline_ = now + reply_.drip_interval;
}

// A reset drops whatever the kernel has not sent yet, so "send `bytes`, then
// reset" must wait until those bytes are out.
void ServerConnection::reset_once_sent(Clock::time_point now) {
  if (stream_.unsent_bytes() > 0 && now < give_up_waiting_for_ack_) {
    deadline_ = now + kAckPollInterval;
    return;
  }
  reset();
}

void ServerConnection::close_gracefully() {
  stream_.close_gracefully();
  phase_ = Phase::kClosed;
  deadline_.reset();
}

void ServerConnection::reset() {
  stream_.reset();
  phase_ = Phase::kClosed;
  deadline_.reset();
}

void ServerConnection::close_now() {
  stream_.close_now();
  phase_ = Phase::kClosed;
  deadline_.reset();
}

}  // namespace gauth::test::detail
