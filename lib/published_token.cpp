#include "published_token.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

namespace gauth::detail {

namespace {
constexpr std::size_t kWordBytes = sizeof(std::uint64_t);
constexpr int kReadAttempts = 8;

std::size_t words_for(std::size_t bytes) { return (bytes + kWordBytes - 1) / kWordBytes; }
}  // namespace

// Without fences (ThreadSanitizer does not model them): the writer's data
// stores are releases, so the odd sequence number is visible to any reader
// that sees one of them; the reader's data loads are acquires, so its final
// sequence load cannot move before them. On x86 both are plain moves.
void PublishedToken::begin_write() {
  sequence_.store(sequence_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

void PublishedToken::end_write() {
  sequence_.store(sequence_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
}

void PublishedToken::publish(std::string_view token, std::int64_t fresh_until_ns) {
  std::size_t needed = words_for(token.size());
  if (buffers_.empty() || buffers_.back()[0].load(std::memory_order_relaxed) < needed) {
    // Grow by half again, so a token that keeps getting longer reallocates rarely.
    std::size_t capacity = buffers_.empty() ? needed : needed + needed / 2;
    Buffer buffer(new Word[capacity + 1]);
    buffer[0].store(capacity, std::memory_order_relaxed);
    buffers_.push_back(std::move(buffer));
  }
  Word* words = buffers_.back().get();
  begin_write();
  for (std::size_t i = 0; i < needed; ++i) {
    std::uint64_t w = 0;
    std::memcpy(&w, token.data() + i * kWordBytes, std::min(kWordBytes, token.size() - i * kWordBytes));
    words[i + 1].store(w, std::memory_order_release);
  }
  buffer_.store(words, std::memory_order_release);
  length_.store(static_cast<std::uint32_t>(token.size()), std::memory_order_release);
  fresh_until_ns_.store(fresh_until_ns, std::memory_order_release);
  end_write();
}

bool PublishedToken::copy_if(std::int64_t now_ns, bool need_fresh, std::string& out) const {
  for (int attempt = 0; attempt < kReadAttempts; ++attempt) {
    std::uint64_t before = sequence_.load(std::memory_order_acquire);
    if (before & 1) continue;  // a write is in progress
    std::int64_t fresh_until = fresh_until_ns_.load(std::memory_order_acquire);
    const Word* words = buffer_.load(std::memory_order_acquire);
    if (words == nullptr || (need_fresh && now_ns >= fresh_until)) {
      if (sequence_.load(std::memory_order_relaxed) == before) return false;
      continue;
    }
    // A torn read may pair a new length with an older, smaller buffer: bound
    // the copy by the buffer's own capacity; the sequence check rejects it.
    std::size_t capacity_bytes = words[0].load(std::memory_order_acquire) * kWordBytes;
    std::size_t length = std::min<std::size_t>(length_.load(std::memory_order_acquire), capacity_bytes);
    std::size_t old_size = out.size();
    out.resize(old_size + length);
    char* dst = out.data() + old_size;
    for (std::size_t i = 0; i * kWordBytes < length; ++i) {
      std::uint64_t w = words[i + 1].load(std::memory_order_acquire);
      std::memcpy(dst + i * kWordBytes, &w, std::min(kWordBytes, length - i * kWordBytes));
    }
    if (sequence_.load(std::memory_order_relaxed) == before) return true;
    out.resize(old_size);  // torn: try again
  }
  return false;
}

bool PublishedToken::read_if_fresh(std::int64_t now_ns, std::string& out) const {
  return copy_if(now_ns, true, out);
}

std::optional<std::string> PublishedToken::token() const {
  std::string out;
  if (!copy_if(0, false, out)) return std::nullopt;
  return out;
}

}  // namespace gauth::detail
