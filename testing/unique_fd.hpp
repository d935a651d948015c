// gauth test kit: ownership of one file descriptor.
#ifndef GAUTH_TEST_SUPPORT_UNIQUE_FD_HPP
#define GAUTH_TEST_SUPPORT_UNIQUE_FD_HPP

#include <unistd.h>

namespace gauth::test::detail {

/// Owns a file descriptor and closes it exactly once, when destroyed or reset.
/// Move-only; -1 means "none".
class UniqueFd {
 public:
  UniqueFd() noexcept = default;
  explicit UniqueFd(int fd) noexcept : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const noexcept { return fd_; }
  explicit operator bool() const noexcept { return fd_ >= 0; }

  /// Gives up ownership without closing.
  int release() noexcept {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

  /// Closes the current descriptor (if any) and owns `fd` instead.
  void reset(int fd = -1) noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

}  // namespace gauth::test::detail

#endif  // GAUTH_TEST_SUPPORT_UNIQUE_FD_HPP
