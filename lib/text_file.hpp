// gauth: reading small text files (credentials) with clear errors.
#ifndef GAUTH_LIB_TEXT_FILE_HPP
#define GAUTH_LIB_TEXT_FILE_HPP

#include "private.hpp"

#include <gauth/status.hpp>

#include <cstddef>
#include <string>

namespace gauth::detail {

/// The whole of a regular file of at most `max_bytes`. A missing file is
/// kNotFound ("File <path> was not found."); a directory, an unreadable or a
/// larger file is kInvalidArgument, named in the message.
StatusOr<std::string> read_text_file(const std::string& path, std::size_t max_bytes = 1024 * 1024);

}  // namespace gauth::detail

#endif  // GAUTH_LIB_TEXT_FILE_HPP
