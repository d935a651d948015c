#include "published_token.hpp"

#include <cstring>

namespace gauth::detail {

namespace {
constexpr std::size_t kWordBytes = sizeof(std::uint64_t);
constexpr int kReadAttempts = 8;
}  // namespace

void PublishedToken::publish(std::string_view value, std::int64_t fresh_until_ns) {
  std::size_t words_needed = (value.size() + kWordBytes - 1) / kWordBytes;
  if (buffers_.empty() || buffers_.back()->capacity < words_needed) {
    std::size_t capacity = std::max<std::size_t>(words_needed, buffers_.empty() ? 32 : 2 * buffers_.back()->capacity);
    buffers_.push_back(std::make_unique<Buffer>(capacity));
  }
  const Buffer* buffer = buffers_.back().get();
  Word* words = buffer->data.get();
  std::uint64_t seq = sequence_.load(std::memory_order_relaxed);
  sequence_.store(seq + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  for (std::size_t i = 0; i < words_needed; ++i) {
    std::uint64_t w = 0;
    std::memcpy(&w, value.data() + i * kWordBytes, std::min(kWordBytes, value.size() - i * kWordBytes));
    words[i].store(w, std::memory_order_relaxed);
  }
  buffer_.store(buffer, std::memory_order_relaxed);
  length_.store(value.size(), std::memory_order_relaxed);
  fresh_until_ns_.store(fresh_until_ns, std::memory_order_relaxed);
  present_.store(true, std::memory_order_relaxed);
  sequence_.store(seq + 2, std::memory_order_release);
}

void PublishedToken::clear() {
  std::uint64_t seq = sequence_.load(std::memory_order_relaxed);
  sequence_.store(seq + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  present_.store(false, std::memory_order_relaxed);
  sequence_.store(seq + 2, std::memory_order_release);
}

bool PublishedToken::read_if_fresh(std::int64_t now_ns, std::string& out) const {
  for (int attempt = 0; attempt < kReadAttempts; ++attempt) {
    std::uint64_t before = sequence_.load(std::memory_order_acquire);
    if (before & 1) continue;  // a write is in progress
    bool present = present_.load(std::memory_order_relaxed);
    std::int64_t fresh_until = fresh_until_ns_.load(std::memory_order_relaxed);
    if (!present || now_ns >= fresh_until) {
      std::atomic_thread_fence(std::memory_order_acquire);
      if (sequence_.load(std::memory_order_relaxed) == before) return false;
      continue;
    }
    // A torn read may pair a new length with an older, smaller buffer: bound
    // the copy by the buffer's own capacity; the sequence check rejects it.
    const Buffer* buffer = buffer_.load(std::memory_order_relaxed);
    if (buffer == nullptr) continue;  // torn: "present" from a first publish in progress
    std::size_t length = std::min(length_.load(std::memory_order_relaxed), buffer->capacity * kWordBytes);
    const Word* words = buffer->data.get();
    std::size_t old_size = out.size();
    out.resize(old_size + length);
    char* dst = out.data() + old_size;
    for (std::size_t i = 0; i * kWordBytes < length; ++i) {
      std::uint64_t w = words[i].load(std::memory_order_relaxed);
      std::memcpy(dst + i * kWordBytes, &w, std::min(kWordBytes, length - i * kWordBytes));
    }
    std::atomic_thread_fence(std::memory_order_acquire);
    if (sequence_.load(std::memory_order_relaxed) == before) return true;
    out.resize(old_size);  // torn: try again
  }
  return false;
}

}  // namespace gauth::detail
