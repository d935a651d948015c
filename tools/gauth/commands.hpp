// gauth tool: print-access-token, print-headers and to-json.
#ifndef GAUTH_TOOLS_GAUTH_COMMANDS_HPP
#define GAUTH_TOOLS_GAUTH_COMMANDS_HPP

#include "command_line.hpp"

#include <gauth/status.hpp>

namespace gauth::tool {

/// Runs a credentials command; returns the exit status (having printed the
/// output on stdout, or one "gauth: error: ..." line on stderr).
int run_credentials_command(const CommandLine& command_line);

/// 1 for refresh, transport and gcloud failures; 2 for usage, file and
/// configuration errors.
int exit_status_of(const Status& status);

/// Prints "gauth: error: <message>" on stderr.
void print_error(const std::string& message);

}  // namespace gauth::tool

#endif  // GAUTH_TOOLS_GAUTH_COMMANDS_HPP
