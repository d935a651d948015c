#include "text_file.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>

#include <sys/stat.h>

namespace gauth::detail {

StatusOr<std::string> read_text_file(const std::string& path, std::size_t max_bytes) {
  auto invalid = [&](const std::string& why) { return Status(StatusCode::kInvalidArgument, why); };
  const std::string too_big =
      path + " is larger than " + std::to_string(max_bytes / 1024) + " KiB: not a credentials file";
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR)
      return Status(StatusCode::kNotFound, "File " + path + " was not found.");
    return invalid("cannot read " + path + ": " + std::strerror(errno));
  }
  if (S_ISDIR(st.st_mode)) return invalid(path + " is a directory, not a credentials file");
  if (static_cast<std::size_t>(st.st_size) > max_bytes) return invalid(too_big);
  std::ifstream in(path, std::ios::binary);
  if (!in) return invalid("cannot read " + path + ": " + std::strerror(errno));
  std::string text;
  char buffer[8192];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    text.append(buffer, static_cast<std::size_t>(in.gcount()));
    if (text.size() > max_bytes) return invalid(too_big);  // it grew while being read
  }
  if (in.bad()) return invalid("cannot read " + path);
  return text;
}

}  // namespace gauth::detail
