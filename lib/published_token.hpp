// gauth: the token as the lock-free fast path reads it (a seqlock over atomic words).
#ifndef GAUTH_LIB_PUBLISHED_TOKEN_HPP
#define GAUTH_LIB_PUBLISHED_TOKEN_HPP

#include "private.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace gauth::detail {

/// The current `authorization` header value and until when it is fresh,
/// readable by any number of threads without a lock and without writing
/// shared memory (so readers never contend), written by one writer at a time.
///
/// A sequence lock: the writer makes the sequence odd, stores, makes it even;
/// a reader copies and retries if the sequence moved. Every shared word is an
/// atomic accessed with relaxed loads and fences (Boehm, "Can seqlocks get
/// along with programming language memory models?"), so the copy is free of
/// data races. Buffers outgrown by a longer token are retired, not freed,
/// until the object dies: a reader may still be copying from them.
class PublishedToken {
 public:
  PublishedToken() = default;
  PublishedToken(const PublishedToken&) = delete;
  PublishedToken& operator=(const PublishedToken&) = delete;

  /// Publishes `header_value`, fresh while the monotonic clock reads less than
  /// `fresh_until_ns`. \context One writer at a time (the cache's mutex).
  void publish(std::string_view header_value, std::int64_t fresh_until_ns);
  /// Withdraws the token. \context One writer at a time.
  void clear();

  /// Copies the header value into `out` if a token is fresh at `now_ns`.
  /// Returns false, leaving `out` alone, if not (or if a writer kept the
  /// sequence moving, in which case the caller takes the slow path).
  /// \context Thread-safe, lock-free.
  bool read_if_fresh(std::int64_t now_ns, std::string& out) const;

 private:
  using Word = std::atomic<std::uint64_t>;
  struct Buffer {
    explicit Buffer(std::size_t words) : data(new Word[words]), capacity(words) {}
    const std::unique_ptr<Word[]> data;
    const std::size_t capacity;  // in words; never changes, so readers may trust it
  };

  std::atomic<std::uint64_t> sequence_{0};
  std::atomic<std::int64_t> fresh_until_ns_{0};
  std::atomic<std::size_t> length_{0};
  std::atomic<bool> present_{false};
  std::atomic<const Buffer*> buffer_{nullptr};
  // Writer only.
  std::vector<std::unique_ptr<Buffer>> buffers_;  // the current one last
};

}  // namespace gauth::detail

#endif  // GAUTH_LIB_PUBLISHED_TOKEN_HPP
