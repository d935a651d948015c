// gauth tool: the command line, parsed.
#ifndef GAUTH_TOOLS_GAUTH_COMMAND_LINE_HPP
#define GAUTH_TOOLS_GAUTH_COMMAND_LINE_HPP

#include <chrono>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace gauth::tool {

enum class Command { kPrintAccessToken, kPrintHeaders, kToJson, kDemo };

/// Everything the command line says. Parsing never touches the environment.
struct CommandLine {
  std::optional<Command> command;
  bool help = false;     // --help: of the tool, or of the command
  bool version = false;  // --version

  std::optional<std::string> credentials;  // --credentials FILE
  bool gcloud = false;                     // --gcloud
  std::optional<std::string> account;      // --account A (with --gcloud)
  std::optional<std::vector<std::string>> scopes;
  std::optional<std::string> quota_project;
  std::optional<std::string> token_uri;
  std::optional<std::chrono::milliseconds> timeout;
  std::optional<std::string> ca_bundle;
  std::vector<std::string> strip;  // to-json --strip K1,K2
  bool refresh = false;            // to-json --refresh
};

/// A usage error: the message to print (exit code 2).
struct UsageError {
  std::string message;
};

/// Parses argv[1...]: the command line, or why it is not one.
std::variant<CommandLine, UsageError> parse_command_line(const std::vector<std::string>& args);

/// The help text of the tool (no command) or of one command.
std::string help_text(std::optional<Command> command);

}  // namespace gauth::tool

#endif  // GAUTH_TOOLS_GAUTH_COMMAND_LINE_HPP
