#include "command_line.hpp"

#include <cmath>
#include <cstdlib>

namespace gauth::tool {

namespace {

struct CommandInfo {
  Command command;
  const char* name;
};
constexpr CommandInfo kCommands[] = {
    {Command::kPrintAccessToken, "print-access-token"},
    {Command::kPrintHeaders, "print-headers"},
    {Command::kToJson, "to-json"},
    {Command::kDemo, "demo"},
};

constexpr char kCredentialOptions[] = R"TEXT(Credentials (default: Application Default Credentials):
  --credentials FILE     an authorized_user JSON file
  --gcloud               tokens from `gcloud auth print-access-token`
  --account A            with --gcloud: the account to ask gcloud for
Options:
  --scopes S1,S2         scopes to request (commas or spaces: "S1 S2")
  --quota-project P      the project to bill (x-goog-user-project)
  --token-uri URL        the token endpoint (default Google's)
  --timeout SECONDS      give up after this long (default 30)
  --ca-bundle FILE       trust the CAs of this PEM file for https
  --help                 this text
)TEXT";

std::vector<std::string> split_list(const std::string& value) {
  std::vector<std::string> items;
  std::string current;
  for (char c : value) {
    if (c == ',' || c == ' ' || c == '\t' || c == '\n') {
      if (!current.empty()) items.push_back(std::move(current));
      current.clear();
    } else {
      current.push_back(c);
    }
  }
  if (!current.empty()) items.push_back(std::move(current));
  return items;
}

}  // namespace

std::string help_text(std::optional<Command> command) {
  if (!command) {
    return std::string(R"TEXT(gauth: Google OAuth2 user credentials from the command line.

Usage:
  gauth print-access-token [options]        a fresh access token on stdout
  gauth print-headers [options]             request headers, one "name: value" per line
  gauth to-json [--strip K1,K2] [--refresh] [options]
                                            the credentials as authorized_user JSON
  gauth demo                                the whole flow, offline, against a fake token endpoint
  gauth COMMAND --help                      help on one command
  gauth --version

)TEXT") + kCredentialOptions +
           R"TEXT(
Exit status: 0 success; 1 refresh, transport or gcloud failure; 2 usage, file or configuration error.
Example:  curl -H "$(gauth print-headers | grep -i ^authorization)" https://www.googleapis.com/oauth2/v3/userinfo
)TEXT";
  }
  switch (*command) {
    case Command::kPrintAccessToken:
      return std::string(
                 "Usage: gauth print-access-token [options]\n\n"
                 "Prints a fresh access token (refreshing it if needed), then a newline.\n\n") +
             kCredentialOptions;
    case Command::kPrintHeaders:
      return std::string(
                 "Usage: gauth print-headers [options]\n\n"
                 "Prints the headers a request to a Google API needs, one \"name: value\" per line:\n"
                 "authorization, x-goog-api-client, and x-goog-user-project when a quota project\n"
                 "is set.\n\n") +
             kCredentialOptions;
    case Command::kToJson:
      return std::string(
                 "Usage: gauth to-json [--strip K1,K2] [--refresh] [options]\n\n"
                 "Prints the credentials as authorized_user JSON. It holds secrets (the client\n"
                 "secret, the refresh token) unless they are stripped.\n"
                 "  --strip K1,K2          leave these keys out\n"
                 "  --refresh              refresh first, so the JSON holds a fresh token and expiry\n\n") +
             kCredentialOptions;
    case Command::kDemo:
      return "Usage: gauth demo\n\n"
             "Runs the whole flow offline, against a fake token endpoint started in this\n"
             "process: a refresh, the headers applied, 1,000 concurrent requests on an\n"
             "expired token served by one POST, a stale token refreshed in the background,\n"
             "a retried 503, and the error for a revoked token.\n";
  }
  return "";
}

std::variant<CommandLine, UsageError> parse_command_line(const std::vector<std::string>& args) {
  CommandLine cl;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i];
    std::optional<std::string> inline_value;
    if (arg.rfind("--", 0) == 0) {
      if (auto eq = arg.find('='); eq != std::string::npos) {
        inline_value = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
      }
    }
    auto value = [&]() -> std::optional<std::string> {
      if (inline_value) return inline_value;
      if (i + 1 < args.size()) return args[++i];
      return std::nullopt;
    };
    auto needs_value = [&](const std::string& name) { return UsageError{name + " needs a value"}; };
    auto no_value = [&]() -> std::optional<UsageError> {
      if (inline_value) return UsageError{arg + " takes no value"};
      return std::nullopt;
    };

    if (arg == "--help" || arg == "-h") {
      if (auto e = no_value()) return *e;
      cl.help = true;
    } else if (arg == "--version") {
      if (auto e = no_value()) return *e;
      cl.version = true;
    } else if (arg == "--gcloud") {
      if (auto e = no_value()) return *e;
      cl.gcloud = true;
    } else if (arg == "--refresh") {
      if (auto e = no_value()) return *e;
      cl.refresh = true;
    } else if (arg == "--credentials" || arg == "--account" || arg == "--scopes" ||
               arg == "--quota-project" || arg == "--token-uri" || arg == "--timeout" ||
               arg == "--ca-bundle" || arg == "--strip") {
      auto v = value();
      if (!v) return needs_value(arg);
      if (arg == "--credentials") {
        cl.credentials = *v;
      } else if (arg == "--account") {
        cl.account = *v;
      } else if (arg == "--scopes") {
        cl.scopes = split_list(*v);
      } else if (arg == "--quota-project") {
        cl.quota_project = *v;
      } else if (arg == "--token-uri") {
        cl.token_uri = *v;
      } else if (arg == "--ca-bundle") {
        cl.ca_bundle = *v;
      } else if (arg == "--strip") {
        for (auto& key : split_list(*v)) cl.strip.push_back(std::move(key));
      } else {  // --timeout
        char* end = nullptr;
        double seconds = std::strtod(v->c_str(), &end);
        if (v->empty() || end != v->c_str() + v->size() || !std::isfinite(seconds) || seconds <= 0 ||
            seconds > 86400) {
          return UsageError{"--timeout wants a number of seconds (more than 0, at most 86400), not \"" + *v +
                            "\""};
        }
        cl.timeout = std::chrono::milliseconds(std::llround(seconds * 1000));
      }
    } else if (arg.rfind("-", 0) == 0) {
      return UsageError{"unknown option " + arg + " (see gauth --help)"};
    } else if (!cl.command) {
      for (const auto& c : kCommands) {
        if (arg == c.name) cl.command = c.command;
      }
      if (!cl.command) return UsageError{"unknown command \"" + arg + "\" (see gauth --help)"};
    } else {
      return UsageError{"unexpected argument \"" + arg + "\""};
    }
  }
  if (cl.help || cl.version) return cl;
  if (!cl.command) return UsageError{"no command given (see gauth --help)"};
  if (cl.account && !cl.gcloud) return UsageError{"--account needs --gcloud"};
  if (cl.gcloud && cl.credentials) return UsageError{"--gcloud and --credentials exclude each other"};
  if ((!cl.strip.empty() || cl.refresh) && cl.command != Command::kToJson) {
    return UsageError{std::string(!cl.strip.empty() ? "--strip" : "--refresh") +
                      " is an option of to-json only"};
  }
  if (cl.command == Command::kToJson && cl.gcloud) {
    return UsageError{"to-json needs user credentials (a credentials file), not --gcloud"};
  }
  if (cl.command == Command::kDemo && (cl.credentials || cl.gcloud || cl.scopes || cl.quota_project ||
                                       cl.token_uri || cl.timeout || cl.ca_bundle)) {
    return UsageError{"demo takes no options: it runs against its own fake token endpoint"};
  }
  return cl;
}

}  // namespace gauth::tool
