// gauth: the token as the lock-free fast path reads it (a seqlock over atomic words).
#ifndef GAUTH_LIB_PUBLISHED_TOKEN_HPP
#define GAUTH_LIB_PUBLISHED_TOKEN_HPP

#include "private.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gauth::detail {

/// The current access token and until when it is fresh, readable by any
/// number of threads without a lock and without writing shared memory (so
/// readers never contend), written by one writer at a time. It is the only
/// copy of the token a cache keeps.
///
/// A sequence lock: the writer makes the sequence odd, stores, makes it even;
/// a reader copies and retries if the sequence moved. Every shared word is an
/// atomic (release stores, acquire loads: Boehm, "Can seqlocks get along with
/// programming language memory models?"), so the copy is free of data races. Buffers outgrown by a longer
/// token are retired, not freed, until the object dies: a reader may still be copying from them.
class PublishedToken {
 public:
  PublishedToken() = default;
  PublishedToken(const PublishedToken&) = delete;
  PublishedToken& operator=(const PublishedToken&) = delete;

  /// Publishes `token`, fresh while the monotonic clock reads less than
  /// `fresh_until_ns`. \context One writer at a time (the cache's mutex).
  void publish(std::string_view token, std::int64_t fresh_until_ns);
  /// Appends the token to `out` if one is fresh at `now_ns`. Returns false,
  /// leaving `out` alone, if not (or if a writer kept the sequence moving, in
  /// which case the caller takes the slow path).
  /// \context Thread-safe, lock-free.
  bool read_if_fresh(std::int64_t now_ns, std::string& out) const;

  /// The token, fresh or not. \context The writer's side (the cache's mutex held).
  std::optional<std::string> token() const;
  /// Whether a token was ever published. \context The writer's side.
  bool present() const noexcept { return buffer_.load(std::memory_order_relaxed) != nullptr; }

 private:
  using Word = std::atomic<std::uint64_t>;
  /// A buffer is one allocation: word 0 holds its capacity in words (set
  /// before it is published, never changed, so readers may trust it), the
  /// token's bytes follow.
  using Buffer = std::unique_ptr<Word[]>;

  bool copy_if(std::int64_t now_ns, bool need_fresh, std::string& out) const;
  void begin_write();
  void end_write();

  std::atomic<std::uint64_t> sequence_{0};
  std::atomic<std::int64_t> fresh_until_ns_{0};
  std::atomic<std::uint32_t> length_{0};
  std::atomic<const Word*> buffer_{nullptr};
  // Writer only. Outgrown buffers are kept (readers may still be in them).
  std::vector<Buffer> buffers_;  // the current one last
};

}  // namespace gauth::detail

#endif  // GAUTH_LIB_PUBLISHED_TOKEN_HPP
